"""Starting job runs: due-slot evaluation, run-now requests, and the run itself.

Used by the long-running runner and, when no runner is alive, by whichever process asks for a
run — the same claims in the same shared state, so neither can double-run a job.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.agent.addressing import matches, topic
from bot.config import JobSettings, Settings
from bot.errors import StateUnavailable
from bot.redact import Redactor
from bot.runs.execute import ProgramMissing, environment, start, supervise
from bot.scheduler import cron, notify
from bot.scheduler.locks import SUPERVISED, Claim, LeaseKeeper, Locks
from bot.secret_values import own_secret_values
from bot.storage.job_records import JobRequest, JobRun
from bot.storage.jobs import History

if TYPE_CHECKING:
    from sqlalchemy import Connection

JOBS_TOPIC = "jobs"  # notified when a run-now request is queued: the runner starts it at once

log = logging.getLogger("supbot.scheduler")


def should_notify(job: JobSettings, status: str) -> bool:
    if job.notify == "never" or status in ("running", "skipped"):
        return False
    return job.notify == "always" or status in ("failed", "missed", "interrupted")


class Launcher:
    def __init__(
        self,
        settings: Settings,
        history: History,
        locks: Locks,
        redactor: Redactor,
        node: str = "",
    ) -> None:
        self.settings, self.history, self.locks, self.redactor = settings, history, locks, redactor
        self.node = node  # '' = the scheduler: jobs without `nodes`; else this agent's node
        self.logs_dir = settings.storage.dir / "runs"
        self.cancel = threading.Event()  # set when a shutdown's grace period runs out
        self.threads: dict[int, threading.Thread] = {}
        self._secrets = own_secret_values(settings)
        self.leases = LeaseKeeper(locks, lambda: list(self.threads))

    def job(self, name: str) -> JobSettings | None:
        return next((j for j in self.settings.jobs if j.name == name), None)

    def mine(self, job: JobSettings) -> bool:
        """Does this process run `job`: the scheduler those without `nodes`, an agent those
        its own config addresses to its node."""
        return matches(self.node, job.nodes) if self.node else not job.nodes

    def state_key(self, job: JobSettings) -> str:
        """Whose slots: the job's, or (on = "each") this node's own."""
        return f"{job.name}@{self.node}" if self.node and job.on == "each" else job.name

    # --- starting ---------------------------------------------------------------------------

    def start(
        self,
        job: JobSettings,
        trigger: str,
        actor: str = "",
        slot: float | None = None,
        request: int | None = None,
    ) -> Claim:
        """Claim the lock and spawn now; the run is supervised on a thread of its own."""
        each = bool(self.node) and job.on == "each"
        exclusive = job.overlap == "skip"
        claim = self.locks.claim(
            job.name, exclusive, trigger, actor, slot, request, self.node, per_node=each
        )
        if claim.blocker is not None:
            self.history.count_skip(job.name)
            log.info("%s: skipped, run #%d still holds the lock", job.name, claim.blocker.id)
        if not claim.run_id:
            return claim
        log_path = self.logs_dir / f"{claim.run_id}.log"
        try:
            proc = start(job.command, job.cwd, environment(job.env, self._secrets), log_path)
        except (ProgramMissing, OSError) as exc:
            error = str(exc) if isinstance(exc, ProgramMissing) else f"cannot start: {exc}"
            try:
                self.history.finish(
                    claim.run_id, "failed", None, "", error, should_notify(job, "failed")
                )
            finally:
                SUPERVISED.discard(claim.run_id)  # unrecorded: the next reap closes it
            self.notify()
            return claim
        # A full state database is said once in the log: the run goes on, supervised as ever.
        with contextlib.suppress(StateUnavailable):
            self.history.set_group(claim.run_id, proc.pid, str(log_path), time.time())
        thread = threading.Thread(
            target=self._supervise,
            args=(job, claim.run_id, proc, log_path),
            name=f"job-{job.name}-{claim.run_id}",
            daemon=True,
        )
        self.threads[claim.run_id] = thread
        thread.start()
        self.leases.wake()
        return claim

    def _supervise(self, job: JobSettings, run_id: int, proc, log_path: Path) -> None:  # type: ignore[no-untyped-def]
        try:
            outcome = supervise(
                proc,
                log_path,
                self.redactor,
                job.timeout,
                cancel=self.cancel,
                max_output=self.settings.max_output,
            )
            status = "ok" if outcome.ok else "failed"
            if self.cancel.is_set() and outcome.error.startswith("killed"):
                status = "interrupted"
            self.history.finish(
                run_id,
                status,
                outcome.exit_code,
                outcome.output,
                outcome.error,
                should_notify(job, status),
            )
            log.info("%s: run #%d %s (exit %s)", job.name, run_id, status, outcome.exit_code)
            log_path.unlink(missing_ok=True)
            self.notify()
        except Exception:
            # This process stays alive, so the run's lock would hold for as long as it does:
            # close the run whatever went wrong, with the traceback in the log.
            log.exception("%s: run #%d could not be supervised", job.name, run_id)
            self._close_anyway(run_id)
        finally:
            self.threads.pop(run_id, None)
            SUPERVISED.discard(run_id)

    def _close_anyway(self, run_id: int) -> None:
        for _ in range(5):
            try:
                self.history.finish(
                    run_id, "failed", None, "", "supbot could not record this run", True
                )
                return
            except Exception:
                log.exception("run #%d: retrying to close it", run_id)
                time.sleep(1)

    def notify(self) -> None:
        """Queue alerts for finished runs that asked for one; never fails a run."""
        try:
            notify.flush(self.settings, self.history)
        except Exception:  # a broken alerts table must not break the scheduler
            log.exception("could not queue job alerts")

    def running(self) -> int:
        return len(self.threads)

    def wait_all(self, seconds: float) -> bool:
        """Wait for this process's runs; True when all finished in time."""
        deadline = time.monotonic() + seconds
        for thread in list(self.threads.values()):
            thread.join(max(0.0, deadline - time.monotonic()))
        return not self.threads

    # --- the schedule -----------------------------------------------------------------------

    def evaluate(self, job: JobSettings, now: float, start: bool = True) -> Claim | None:
        """Record slots older than `grace` as missed; start the latest slot within it."""
        with self.history.store.transaction() as db:
            on_time, missed = self._record_missed(db, job, now)
        if missed:
            self.notify()
        if on_time and start:
            return self.start(job, "schedule", "", slot=on_time[-1])
        return None

    def _record_missed(
        self, db: Connection, job: JobSettings, now: float
    ) -> tuple[list[float], bool]:
        key = self.state_key(job)
        last = self.history.last_evaluated(db, key)
        if last is None:  # first sight of this job: nothing can have been missed
            self.history.set_evaluated(db, key, now)
            return [], False
        slots = cron.slots_between(job.schedule, job.timezone, last, now)
        capped = len(slots) >= cron.MAX_SLOTS
        if capped:  # a long outage of a frequent job: count no further
            late = slots
            on_time = cron.slots_between(job.schedule, job.timezone, now - job.grace, now)
        else:
            late = [s for s in slots if now - s > job.grace]
            on_time = [s for s in slots if now - s <= job.grace]
        if late:
            notify = should_notify(job, "missed")
            self.history.record_missed(db, job.name, late[0], late[-1], len(late), notify, capped)
            self.history.set_evaluated(db, key, now - job.grace if capped else late[-1])
            log.warning("%s: missed %d scheduled run(s)", job.name, len(late))
        return on_time, bool(late)

    def next_slot(self, job: JobSettings, now: float) -> float:
        runs = cron.next_runs(job.schedule, job.timezone, now, 1)
        return runs[0] if runs else now + 3600

    # --- run-now requests -------------------------------------------------------------------

    def queue(
        self, job: str, trigger: str, actor: str, slot: float | None = None, node: str = ""
    ) -> int:
        """Queue a run-now request and wake the runner, or `node`'s agent (at once on
        PostgreSQL)."""
        from bot.storage import job_requests

        store = self.history.store
        with store.connect() as db:
            request = job_requests.queue(db, job, trigger, actor, slot, time.time(), node)
            store.notify(db, topic(node) if node else JOBS_TOPIC)
        return request

    def request(self, request_id: int) -> JobRequest | None:
        from bot.storage import job_requests

        with self.history.store.connect() as db:
            return job_requests.get(db, request_id)

    def pending(self) -> list[JobRequest]:
        from bot.storage import job_requests

        with self.history.store.connect() as db:
            return job_requests.pending(db, self.node)

    def take(self, request: JobRequest) -> Claim:
        """Serve one queued request (the runner's loop, or a requester tired of waiting)."""
        from bot.storage import job_requests

        job = self.job(request.job)
        if job is None or not self.mine(job):
            gone = f"`{request.job}` is not configured any more."
            if self.node:  # the agent checks its own config again, whatever the bot said
                gone = f"`{request.job}` is not allowed on {self.node} by its agent's config."
            with self.history.store.connect() as db:
                job_requests.refuse_pending(db, request.id, gone)
            return Claim(gone=True)
        return self.start(job, request.trigger, request.actor, request.slot, request.id)

    def last_run(self, job: str) -> JobRun | None:
        return self.history.last(job)
