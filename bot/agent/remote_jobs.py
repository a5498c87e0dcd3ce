"""Run-now of a job addressed to nodes: queued for one live agent of a matching node, which
starts it within a second (LISTEN/NOTIFY). Never run here instead: it belongs to that host."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bot.agent.liveness import NoAgent, agent_seen, resolve
from bot.config import JobSettings
from bot.storage.job_records import JobRequest

if TYPE_CHECKING:
    from bot.scheduler.jobs import JobService

PICKUP_WAIT = 5.0


def pick_node(service: JobService, job: JobSettings) -> str:
    """The first matching node with a live agent; NoAgent (the reason) when there is none."""
    known = [n.name for n in service.settings.nodes]
    tz = service.settings.timezone
    what = ("job", job.name)
    for node in _candidates(job, known):
        if agent_seen(service.store, node).live:
            return node
    resolve(service.store, what, job.nodes, known, "all", tz)  # raises with every reason
    raise NoAgent(f"No agent can run `{job.name}` now.")


def _candidates(job: JobSettings, known: list[str]) -> list[str]:
    from bot.agent.addressing import matching

    return matching(job.nodes, known)


def start_on_agent(
    service: JobService, job: JobSettings, trigger: str, actor: str, slot: float | None
) -> JobRequest:
    """Queue the run for a live agent and wait for its answer (started, or refused: why)."""
    from bot.storage import job_requests

    node = pick_node(service, job)
    launcher = service.launcher
    request = launcher.queue(job.name, trigger, actor, slot, node)
    deadline = time.monotonic() + PICKUP_WAIT
    while time.monotonic() < deadline:
        found = launcher.request(request)
        if found is not None and found.state not in ("pending", "taken"):
            return found
        time.sleep(0.05)
    why = f"the agent on {node} did not take it within {PICKUP_WAIT:g}s"
    with service.store.connect() as db:
        job_requests.refuse_pending(db, request, why)
    found = launcher.request(request)
    assert found is not None
    if found.state == "refused" and found.error == why:
        raise NoAgent(f"`{job.name}` was not started: {why}.")
    return found
