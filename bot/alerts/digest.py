"""The digest: crashes and restarts per process since the last one, what is not running now,
failed and missed jobs, an uptime sparkline per process (bot/alerts/digest_render.py draws it).
Scheduled by `[alerts] digest` (cron, in `timezone`); one process claims each run."""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter

from bot.alerts.deploys import deploys_for
from bot.alerts.digest_render import digest_message
from bot.alerts.records import Digest, EventRecord, Interval, ProcessKey
from bot.alerts.routing import Router, alert_channels, router
from bot.alerts.silence_match import covers
from bot.alerts.silence_records import Deploy
from bot.domain import ProcessInfo
from bot.storage.alerts.store import AlertStore


def _down_intervals(events: list[EventRecord], until: float) -> dict[ProcessKey, list[Interval]]:
    """From crash to the next RUNNING, per process."""
    out: dict[ProcessKey, list[Interval]] = defaultdict(list)
    down_at: dict[ProcessKey, float] = {}
    for e in events:
        key = (e.node, e.process)
        if e.state == "RUNNING":
            if key in down_at:
                out[key].append((down_at.pop(key), e.stop))
        elif key not in down_at:
            down_at[key] = e.stop
    for key, start in down_at.items():
        out[key].append((start, until))
    return out


def gather(services: Any, since: float, until: float, route: Router, channel: str) -> Digest:
    """The digest for one channel: the processes whose alerts go there."""
    counted = AlertStore(services.store).counted_events(since, until)
    mine = [e for e in counted if route(e.node, e.process) == channel]
    crashes: dict[ProcessKey, int] = defaultdict(int)
    starts: dict[ProcessKey, int] = defaultdict(int)
    for e in mine:
        (starts if e.state == "RUNNING" else crashes)[(e.node, e.process)] += 1
    statuses = services.fleet.status(fresh=True)
    stopped = [
        p
        for s in statuses
        for p in s.processes
        if not p.running and route(p.node, p.full_name) == channel
    ]
    jobs = getattr(services, "jobs", None)
    everyone = [p for s in statuses for p in s.processes]
    fallback = channel == (services.settings.alerts.channel or channel)
    return Digest(
        since=since,
        until=until,
        crashes=dict(crashes),
        starts=dict(starts),
        down=dict(_down_intervals(mine, until)),
        stopped=stopped,
        unreachable=[s.node for s in statuses if s.error],
        jobs=None if jobs is None else jobs.runs.problem_counts(since, until),
        deploys=[
            d
            for d in deploys_for(services.store, since, until)
            if _deploy_here(d, everyone, route, channel, fallback)
        ],
    )


def _deploy_here(
    d: Deploy, processes: list[ProcessInfo], route: Router, channel: str, fallback: bool
) -> bool:
    """A deploy shows where the alerts of a program it names go; one naming no known program
    shows in [alerts] channel."""
    named = [p for p in processes if covers(d.what, p.node, p.full_name)]
    if not named:
        return fallback
    return any(route(p.node, p.full_name) == channel for p in named)


def post(services: Any, route: Router, since: float, until: float | None = None) -> int:
    """Queue a digest for every alerts channel; returns how many."""
    until = until or time.time()
    alerts = AlertStore(services.store)
    queued = 0
    for channel in alert_channels(services.settings):
        text, blocks = digest_message(gather(services, since, until, route, channel))
        with alerts.transaction() as tx:
            tx.enqueue(channel, "digest", 0, {"text": text, "blocks": blocks})
        queued += 1
    return queued


class DigestSchedule:
    """`[alerts] digest` in `timezone`; the last run is in the shared state so one process
    posts each digest and a restart does not post again."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self.alerts = AlertStore(services.store)
        self.expr = services.settings.alerts.digest
        self.tz = ZoneInfo(services.settings.timezone)
        self.route = router(services.settings)

    def due(self, now: float | None = None) -> bool:
        now = now or time.time()
        last = self.alerts.digest_last()
        if last is None:
            self.alerts.claim_digest(None, now)  # the first start: post at the next slot
            return False
        return self._next(last) <= now

    def _next(self, last: float) -> float:
        return float(croniter(self.expr, datetime.fromtimestamp(last, self.tz)).get_next(float))

    def run(self, now: float | None = None) -> bool:
        """Post the digest if one is due and no other process took it first."""
        now = now or time.time()
        last = self.alerts.digest_last()
        if last is None or self._next(last) > now or not self.alerts.claim_digest(last, now):
            return False
        post(self.services, self.route, last, now)
        return True
