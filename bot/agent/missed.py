"""The scheduler's part in jobs addressed to nodes: it runs none of them, but a slot that comes
while no live agent can run it is recorded as missed (with the reason) and alerted at once —
not only when an agent comes back and counts its outage."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from bot.agent.addressing import matching
from bot.agent.liveness import absent_reason, agent_seen
from bot.config import JobSettings
from bot.scheduler.launch import should_notify

if TYPE_CHECKING:
    from bot.scheduler.jobs import JobService

log = logging.getLogger("supbot.scheduler")


def record_absent(service: JobService, job: JobSettings, slot: float) -> int:
    """Record `slot` as missed where no live agent can run it; how many were recorded."""
    from bot.storage import job_locks

    settings = service.settings
    seen = [
        agent_seen(service.store, n) for n in matching(job.nodes, [n.name for n in settings.nodes])
    ]
    absent = [s for s in seen if not s.live]
    if job.on == "one":
        if not seen or len(absent) < len(seen):
            return 0
        why = "; ".join(absent_reason(s, settings.timezone) for s in absent)
        groups = [("", job.name, why)]
    else:
        groups = [
            (s.node, f"{job.name}@{s.node}", absent_reason(s, settings.timezone)) for s in absent
        ]
    recorded = 0
    notify = should_notify(job, "missed")
    with service.store.transaction() as db:
        for node, key, why in groups:
            if job_locks.record_missed_slot(
                db, job.name, key, node, slot, f"missed: {why}", notify
            ):
                recorded += 1
                log.warning("%s: slot missed on %s: %s", job.name, node or "any node", why)
            service.runs.set_evaluated(db, key, slot)
    if recorded:
        service.launcher.notify()
    return recorded
