"""The checks loop: sample every `interval`, alert through the alerts' event path, restart.

A breach is recorded as a ProcessEvent with state UNHEALTHY (the figure that tripped it in
`from_state`), so it becomes an incident in the same lifecycle as a crash (thread, storms,
snooze); the first healthy sample after it records HEALTHY, which closes that incident.
State (since when a limit is exceeded, failed probes, restarts) is kept in memory only: a
restart of supbot starts counting again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from bot import errors, names
from bot.alerts import events
from bot.alerts.records import ProcessEvent
from bot.auth import Access, Actor, Grant
from bot.checks.probe import Sampler, over_limits, probe
from bot.config import CheckSettings
from bot.domain import ProcessInfo
from bot.storage.alerts.store import AlertStore

log = logging.getLogger("supbot.checks")


@dataclass
class _Track:
    since: float | None = None  # first sample over a limit, in the current run of them
    failures: int = 0  # failed HTTP probes in a row
    alerted: bool = False  # an UNHEALTHY was recorded and no HEALTHY since
    restarts: deque[float] = field(default_factory=deque)  # restart times, last hour


def check_access(check: CheckSettings) -> Access:
    """What a check may do: restart the programs it watches, audited as `check:<name>`."""
    grant = Grant("operator", check.programs, source=f"check:{check.name}")
    return Access(Actor(f"check:{check.name}", "check"), (grant,))


class ChecksLoop:
    name = "checks"

    def __init__(self, services: Any, alerts: AlertStore, wake: threading.Event) -> None:
        self.services, self.alerts, self.wake = services, alerts, wake
        self.checks: tuple[CheckSettings, ...] = services.settings.checks
        self.sampler = Sampler()
        self.tracks: dict[tuple[str, str, str], _Track] = {}

    def run(self, stop: threading.Event) -> None:
        interval = min(c.interval for c in self.checks)
        while not stop.is_set():
            started = time.monotonic()
            try:
                self.poll_once()
            except errors.SupbotError as exc:  # a node or the state database is down
                log.warning("checks: %s; trying again in %.0f s", exc, interval)
            stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def poll_once(self, now: float | None = None) -> None:
        """One round of every check."""
        now = time.time() if now is None else now
        processes, statuses = self.services.fleet.processes(fresh=True)
        local = {s.node for s in statuses if s.local}
        if local and any(c.memory_max or c.cpu_max for c in self.checks):
            self.sampler.new_round()
        for check in self.checks:
            chosen = [p for p in _select(processes, check.programs) if p.state == "RUNNING"]
            failed = probe(check.http, check.timeout) if check.http and chosen else ""
            for p in chosen:
                figure = failed
                if not figure and p.node in local and (check.memory_max or check.cpu_max):
                    sample = self.sampler.sample(p.pid)
                    figure = over_limits(sample, check.memory_max, check.cpu_max) if sample else ""
                self._judge(check, p, figure, bool(failed), now)
        self.sampler.forget_except({p.pid for p in processes if p.pid})

    def _judge(
        self, check: CheckSettings, p: ProcessInfo, figure: str, http: bool, now: float
    ) -> None:
        track = self.tracks.setdefault((check.name, p.node, p.full_name), _Track())
        if not figure:
            if track.alerted:
                self._record(check, p, "HEALTHY", f"{check.name} passes again", now)
            track.since, track.failures, track.alerted = None, 0, False
            return
        track.failures += 1 if http else 0
        track.since = now if track.since is None else track.since
        due = track.failures >= check.fail_after if http else now - track.since >= check.sustain
        if not due:
            return
        if not track.alerted:
            self._record(check, p, "UNHEALTHY", f"{check.name}: {figure}", now)
            track.alerted = True
        if check.action == "restart" and self._may_restart(check, track, now):
            self._restart(check, p, track, now)

    def _may_restart(self, check: CheckSettings, track: _Track, now: float) -> bool:
        while track.restarts and now - track.restarts[0] > 3600:
            track.restarts.popleft()
        if track.restarts and now - track.restarts[-1] < check.cooldown:
            return False
        return len(track.restarts) < check.restarts_per_hour

    def _restart(self, check: CheckSettings, p: ProcessInfo, track: _Track, now: float) -> None:
        track.restarts.append(now)
        track.since, track.failures = None, 0  # the new process is judged afresh
        label = f"{p.full_name}@{p.node}"
        try:
            report = self.services.processes.act(check_access(check), "restart", label)
        except errors.SupbotError as exc:
            log.warning("check %s could not restart %s: %s", check.name, label, exc)
            return
        log.info("check %s restarted %s: %s", check.name, label, report.outcomes[0].message)

    def _record(
        self, check: CheckSettings, p: ProcessInfo, state: str, why: str, now: float
    ) -> None:
        event = ProcessEvent(
            p.node, p.full_name, state, "check", from_state=why[:200], pid=p.pid, stop=now,
            serial=check.name,
        )  # fmt: skip
        if events.record(self.alerts, event):
            self.wake.set()


def _select(processes: list[ProcessInfo], globs: tuple[str, ...]) -> list[ProcessInfo]:
    seen: dict[tuple[str, str], ProcessInfo] = {}
    for glob in globs:
        for p in names.select(processes, glob):
            seen[(p.node, p.full_name)] = p
    return list(seen.values())
