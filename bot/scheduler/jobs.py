"""JobService: what Slack, the CLI and the API ask about scheduled jobs.

Run-now goes through the live runner: a request is queued in the shared state and the runner
starts it within a second. With no live runner (no fresh heartbeat from a living pid), or a
runner that does not pick the request up in time, the asking process takes the request back
and runs the job itself, under the same lock.
"""

from __future__ import annotations

import difflib
import time
from dataclasses import dataclass, replace

from bot import errors
from bot.audit import AuditLog
from bot.auth import Access, refusal
from bot.config import JobSettings, Settings
from bot.redact import Redactor
from bot.runs.alive import process_alive
from bot.runs.execute import read_tail
from bot.scheduler import cron
from bot.scheduler.launch import Launcher
from bot.scheduler.locks import Claim, Locks, busy_message
from bot.state import Store
from bot.storage.job_records import JobRequest, JobRun
from bot.storage.jobs import History
from bot.usertext import quote

RUNNER = "scheduler"  # heartbeat name
HEARTBEAT_FRESH = 5.0  # seconds (its lease, in database time); the runner beats every second
PICKUP_WAIT = 3.0  # how long a requester waits for the runner before running the job itself

SURFACE_TRIGGER = {"slash": "slack", "button": "slack", "home": "slack"}


class UnknownJob(errors.SupbotError):
    exit_code = errors.ExitStatus.USAGE


class JobBusy(errors.SupbotError):
    """overlap = "skip" and the previous run still holds the lock."""


@dataclass(frozen=True)
class RunnerStatus:
    live: bool
    pid: int = 0
    seen: float | None = None
    stopping: bool = False


@dataclass(frozen=True)
class JobView:
    """One job as `/sup jobs` shows it."""

    job: JobSettings
    description: str
    next_runs: tuple[float, ...]
    last_run: JobRun | None
    can_run: bool
    skipped: int = 0


def trigger_for(access: Access) -> str:
    return SURFACE_TRIGGER.get(access.actor.surface, access.actor.surface)


class JobService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        audit: AuditLog,
        redactor: Redactor,
        node: str = "",
    ) -> None:
        self.settings, self.store, self.audit, self.redactor = settings, store, audit, redactor
        self.runs = History(store)
        self.locks = Locks(self.runs, lambda path: read_tail(path, redactor))
        self.launcher = Launcher(settings, self.runs, self.locks, redactor, node)

    # --- reading ----------------------------------------------------------------------------

    def runner_status(self) -> RunnerStatus:
        row = self.store.last_heartbeat(RUNNER)
        if row is None:
            return RunnerStatus(False)
        if row["lease_until"]:  # database time: a runner on another host is judged by it
            with self.store.connect() as db:
                fresh = row["lease_until"] > self.store.now(db)
        else:
            fresh = time.time() - row["seen"] < HEARTBEAT_FRESH
        live = fresh and process_alive(row["pid"], row["started"], row["host"])
        stopping = row["detail"] == "stopping"
        return RunnerStatus(live and not stopping, row["pid"], row["seen"], stopping)

    def visible(self, access: Access) -> list[JobSettings]:
        return [j for j in self.settings.jobs if access.allows_named("jobs", "jobs", j.name)]

    def list_jobs(self, access: Access) -> list[JobView]:
        """The jobs the asker may see, as recorded (`reconcile_jobs` first brings that up to date)."""
        now = time.time()
        views = []
        for job in self.visible(access):
            skipped, _ = self.runs.skips(job.name)
            views.append(
                JobView(
                    job=self._shown(job),
                    description=cron.describe(job.schedule),
                    next_runs=tuple(cron.next_runs(job.schedule, job.timezone, now, 3)),
                    last_run=self.runs.last(job.name),
                    can_run=access.allows_named("job_run", "jobs", job.name),
                    skipped=skipped,
                )
            )
        return views

    def _shown(self, job: JobSettings) -> JobSettings:
        """A job safe to show or serialize: env values hidden, argv redacted."""
        argv = tuple(self.redactor.redact(word) for word in job.command)
        return replace(job, command=argv, env={k: "[hidden]" for k in job.env})

    def history(self, access: Access, name: str, limit: int = 10) -> list[JobRun]:
        job = self._find(access, name, "history")
        return self.history_of(job.name, limit)

    def history_of(self, name: str, limit: int = 10) -> list[JobRun]:
        return self.runs.recent(name, limit)

    def run_output(self, access: Access, run_id: int) -> str:
        run = self.runs.get(run_id)
        if run is None or not access.allows_named("history", "jobs", run.job):
            raise UnknownJob(f"There is no job run #{run_id} you may see here.")
        return self.runs.output(run_id)

    def get_run(self, access: Access, run_id: int) -> JobRun:
        run = self.runs.get(run_id)
        if run is None or not access.allows_named("history", "jobs", run.job):
            raise UnknownJob(f"There is no job run #{run_id} you may see here.")
        return run

    def wait(self, run_id: int, seconds: float | None = None) -> JobRun:
        """Poll until the run finished (or `seconds` passed); return its latest record."""
        deadline = None if seconds is None else time.monotonic() + seconds
        polls = 0
        while True:
            run = self.runs.get(run_id)
            if run is None or run.finished:
                break
            if deadline is not None and time.monotonic() >= deadline:
                break
            polls += 1
            if polls % 10 == 0 and run_id not in self.launcher.threads:
                self.locks.reap_all()  # its runner may have died: close it as interrupted
            time.sleep(0.1)
        assert run is not None
        return run

    # --- running ----------------------------------------------------------------------------

    def run_now(self, access: Access, name: str) -> JobRun:
        """Start a job at once (through the live runner when there is one)."""
        job = self._find(access, name, "job_run")
        trigger, a = trigger_for(access), access.actor
        # On record before it starts: no record, no run (AuditUnavailable).
        (attempt,) = self.audit.begin(a.id, a.surface, "job_run", [job.name], a.channel)
        try:
            run = self._start(job, trigger, a.id, None)
        except BaseException as exc:
            why = str(exc) if isinstance(exc, errors.SupbotError) else "supbot failed"
            self.audit.finish(attempt, "failed", 0.0, why)
            raise
        self.audit.finish(attempt, "ok", 0.0, f"run #{run.id}")
        return run

    def schedule_run(self, access: Access) -> list[JobRun]:
        """Start every visible job that is due now (its cron matches this minute / second)."""
        try:
            access.require_role("schedule_run")
        except errors.Forbidden as exc:  # audited here, whichever surface asked
            self._audit(access, "*", "refused", str(exc), action="schedule_run")
            raise
        now = time.time()
        due = [
            (job, slot)
            for job in self.visible(access)
            if access.allows_named("schedule_run", "jobs", job.name)
            and (slot := cron.current_slot(job.schedule, job.timezone, now)) is not None
        ]
        a = access.actor
        names = " ".join(job.name for job, _ in due) or "(nothing due)"
        # On record before anything starts: no record, no run (AuditUnavailable).
        (attempt,) = self.audit.begin(a.id, a.surface, "schedule_run", [names], a.channel)
        out = []
        try:
            for job, slot in due:
                try:
                    out.append(self._start(job, trigger_for(access), a.id, slot))
                except JobBusy as exc:
                    out.append(
                        JobRun(0, job.name, "skipped", "schedule", "", now, slot, error=str(exc))
                    )
        except BaseException:  # a bug: the row still gets an outcome
            self.audit.finish(attempt, "failed", 0.0, "supbot failed")
            raise
        self.audit.finish(attempt, "ok")
        return out

    def _start(self, job: JobSettings, trigger: str, actor: str, slot: float | None) -> JobRun:
        launcher = self.launcher
        if job.nodes and not launcher.node:
            from bot.agent.remote_jobs import start_on_agent

            return self._answered(job, start_on_agent(self, job, trigger, actor, slot))
        if self.runner_status().live:
            request = launcher.queue(job.name, trigger, actor, slot)
            deadline = time.monotonic() + PICKUP_WAIT
            while time.monotonic() < deadline:
                found = launcher.request(request)
                if found is not None and found.state != "pending":
                    return self._answered(job, found)
                time.sleep(0.05)
            found = launcher.request(request)
            assert found is not None
            if found.state == "pending":
                return self._claimed(job, launcher.take(found), slot)
            return self._answered(job, found)
        return self._claimed(job, launcher.start(job, trigger, actor, slot), slot)

    def _answered(self, job: JobSettings, request: JobRequest) -> JobRun:
        if request.state == "started" and request.run_id:
            run = self.runs.get(request.run_id)
            assert run is not None
            return run
        if request.state == "taken":  # being claimed this very moment: wait for its answer
            raise JobBusy(f"`{job.name}` is being started by another process; try History.")
        raise JobBusy(request.error or f"`{job.name}` was not started.")

    def _claimed(self, job: JobSettings, claim: Claim, slot: float | None) -> JobRun:
        if claim.run_id:
            run = self.runs.get(claim.run_id)
            assert run is not None
            return run
        if claim.blocker is not None:
            raise JobBusy(busy_message(claim.blocker))
        if claim.slot_taken:
            raise JobBusy(f"`{job.name}` already ran for this scheduled time.")
        raise JobBusy(f"`{job.name}` is being started by another process.")

    # --- reconciling ------------------------------------------------------------------------

    def reconcile_jobs(self, now: float | None = None) -> None:
        """Bring the record up to date before a read: close runs whose processes died and, with
        no runner alive, record the slots it is missing right now (the runner does both itself).
        This writes; `list_jobs` and `history` only read."""
        now = time.time() if now is None else now
        if self.locks.reap_all():
            self.launcher.notify()
        if not self.runner_status().live:
            for job in self.settings.jobs:
                if self.launcher.mine(job):  # agents keep the slots of jobs on their nodes
                    self.launcher.evaluate(job, now, start=False)

    # --- helpers ----------------------------------------------------------------------------

    def _find(self, access: Access, name: str, action: str) -> JobSettings:
        job = self.launcher.job(name)
        if job is None or not access.allows_named("jobs", "jobs", name):
            known = [j.name for j in self.visible(access)]
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            listing = ", ".join(f"`{k}`" for k in known) or "none"
            raise UnknownJob(f"No job {quote(name)} here.{hint} Jobs here: {listing}.")
        if not access.allows_named(action, "jobs", name):
            self._audit(access, name, "refused", "not allowed", action=action)
            raise errors.Forbidden(refusal(access.actor, action, name))
        return job

    def _audit(
        self, access: Access, target: str, outcome: str, error: str, action: str = "job_run"
    ) -> None:
        a = access.actor
        self.audit.record(a.id, a.surface, action, target, outcome, a.channel, 0.0, error)
