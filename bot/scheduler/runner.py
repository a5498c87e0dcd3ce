"""`supbot scheduler`: the long-running runner (a supervisord program itself).

Each pass: start the jobs whose slot has come (slots older than `grace` are recorded as missed),
serve queued run-now requests, beat the heartbeat every second (with a lease of
HEARTBEAT_FRESH seconds of database time, by which other hosts judge it). Between passes it
waits for a run-now request (`jobs` notifications) until the next slot: a request starts at once
on PostgreSQL; on SQLite, where other processes cannot wake it, it waits at most 0.2 s.
SIGHUP re-reads the config.
SIGTERM / SIGINT: take no new runs, give running ones `stop_grace` seconds, then kill their
process groups and record them as interrupted.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.agent.addressing import beat_name, topic
from bot.agent.missed import record_absent
from bot.config import JobSettings
from bot.errors import ExitStatus, StateUnavailable
from bot.runs.execute import TERM_GRACE
from bot.scheduler.jobs import HEARTBEAT_FRESH, RUNNER, JobService
from bot.scheduler.launch import JOBS_TOPIC, Launcher
from bot.storage import heartbeats

if TYPE_CHECKING:
    from bot.storage.listen import Waiter

log = logging.getLogger("supbot.scheduler")

TICK = 0.2  # SQLite: how long a request from another process may wait
TICK_NOTIFIED = 1.0  # PostgreSQL: requests wake the loop; this paces the heartbeat and SIGTERM
REAP_EVERY = 5.0
PRUNE_EVERY = 3600.0


class Runner:
    def __init__(
        self,
        jobs: Callable[[], JobService],
        stop_grace: float = 30.0,
        node: str = "",
        serve: Callable[[], None] | None = None,
    ) -> None:
        self.jobs = jobs  # the current JobService (it changes when the config is reloaded)
        self.stop_grace = stop_grace
        # An agent (`supbot agent --node`): its node's jobs and requests, and `serve` (the
        # commands queued for its node) each pass; the scheduler: the jobs without `nodes`.
        self.node, self.serve = node, serve
        self.name = beat_name(node) if node else RUNNER
        self.stopping = threading.Event()
        self._launchers: list[Launcher] = []
        self._last = {"beat": 0.0, "reap": 0.0, "prune": 0.0}  # when each chore last ran

    def install_signals(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: self.stopping.set())

    def run(self) -> int:
        service = self.jobs()
        service.locks.reap_all()
        log.info("%s started (pid %d, %d jobs)", self.name, os.getpid(), len(service.settings.jobs))
        due: dict[str, float] = {}  # job name → its next slot
        waiter = service.store.waiter(topic(self.node) if self.node else JOBS_TOPIC)
        tick = TICK_NOTIFIED if service.store.postgresql else TICK
        try:
            self._loop(service, due, waiter, tick)
        finally:
            waiter.stop()
        return self._shutdown(self.jobs())

    def _loop(
        self, service: JobService, due: dict[str, float], waiter: Waiter, tick: float
    ) -> None:
        while not self.stopping.is_set():
            if self.jobs() is not service:
                service, due = self.jobs(), {}
            if service.launcher not in self._launchers:
                self._launchers.append(service.launcher)
            try:
                self._tick(service, due)
            except StateUnavailable:  # the store said so once; try again, no traceback each pass
                self.stopping.wait(1.0)
                continue
            except Exception:  # one bad pass (a locked database, a bug) must not stop the schedule
                log.exception("scheduler pass failed; continuing")
                self.stopping.wait(1.0)
                continue
            wake = min(due.values(), default=time.time() + tick)
            if not self.stopping.is_set():
                waiter.wait(min(max(wake - time.time(), 0.0), tick))

    def _tick(self, service: JobService, due: dict[str, float]) -> None:
        """One pass: heartbeat, due jobs, run-now requests, reaping and pruning."""
        now = time.time()
        if now - self._last["beat"] >= 1.0:
            detail = f"{len(service.settings.jobs)} jobs"
            service.store.heartbeat(self.name, detail, lease=HEARTBEAT_FRESH)
            self._last["beat"] = now
        for job in service.settings.jobs:
            if service.launcher.mine(job) and due.get(job.name, 0.0) <= now:
                service.launcher.evaluate(job, now)
                due[job.name] = service.launcher.next_slot(job, now)
            elif job.nodes and not self.node:
                self._watch_agents(service, job, due, now)
        for request in service.launcher.pending():
            service.launcher.take(request)
        if self.serve is not None:
            self.serve()
        if now - self._last["reap"] >= REAP_EVERY:
            if service.locks.reap_all():
                service.launcher.notify()
            self._last["reap"] = now
        if now - self._last["prune"] >= PRUNE_EVERY:
            service.runs.prune(service.settings.storage.retention)
            self._last["prune"] = now

    def _watch_agents(
        self, service: JobService, job: JobSettings, due: dict[str, float], now: float
    ) -> None:
        """A job for agents: at each slot, record it missed where no agent is alive."""
        slot = due.get(job.name)
        if slot is not None and slot > now:
            return
        if slot is not None:
            record_absent(service, job, slot)
        due[job.name] = service.launcher.next_slot(job, now)

    def _shutdown(self, service: JobService) -> int:
        service.store.heartbeat(self.name, "stopping")
        running = sum(launcher.running() for launcher in self._launchers)
        log.info("stopping: waiting up to %gs for %d running job(s)", self.stop_grace, running)
        deadline = time.monotonic() + self.stop_grace
        for launcher in self._launchers:
            launcher.wait_all(max(0.0, deadline - time.monotonic()))
        if any(launcher.running() for launcher in self._launchers):
            log.warning("grace period over: killing the remaining jobs")
            for launcher in self._launchers:
                launcher.cancel.set()
            for launcher in self._launchers:
                launcher.wait_all(TERM_GRACE + 10.0)
        with service.store.connect() as db:
            heartbeats.stopped(db, self.name, os.getpid())
        log.info("%s stopped", self.name)
        return ExitStatus.OK
