"""The queries behind `History` (bot/storage/jobs.py), imported at its first use: SQLAlchemy
comes with them, and every command holds a History from start-up (`supbot status` included)."""

from __future__ import annotations

import time

from sqlalchemy import Connection, delete, func, insert, select, update

from bot.state import Store, from_row
from bot.storage import agent_commands
from bot.storage.job_records import PROBLEMS, REQUESTS_KEPT, JobRun
from bot.storage.tables import job_requests, job_runs, job_state
from bot.storage.upsert import insert_ignore


class HistoryQueries:
    """Reads and writes of the scheduler tables (no policy here). Methods taking `db` run in
    the caller's block; the others open their own."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def get(self, run_id: int) -> JobRun | None:
        with self.store.connect() as db:
            row = db.execute(select(job_runs).where(job_runs.c.id == run_id)).mappings().first()
        return None if row is None else from_row(JobRun, row)

    def output(self, run_id: int) -> str:
        with self.store.connect() as db:
            found = db.execute(select(job_runs.c.output).where(job_runs.c.id == run_id)).first()
        return "" if found is None else str(found[0])

    def recent(self, job: str, limit: int = 10) -> list[JobRun]:
        query = select(job_runs).where(job_runs.c.job == job).order_by(job_runs.c.id.desc())
        with self.store.connect() as db:
            rows = db.execute(query.limit(limit)).mappings().all()
        return [from_row(JobRun, r) for r in rows]

    def last(self, job: str) -> JobRun | None:
        runs = self.recent(job, 1)
        return runs[0] if runs else None

    def finish(
        self,
        run_id: int,
        status: str,
        exit_code: int | None,
        output: str,
        error: str = "",
        notify: bool = False,
        ended: float | None = None,
    ) -> JobRun | None:
        """Close a run once (and free its lock): a row already finished (e.g. reaped) is left
        as it is."""
        values = {
            "status": status,
            "exit_code": exit_code,
            "output": output,
            "error": error,
            "ended": ended or time.time(),
            "notify_pending": int(notify),
            "lock_key": None,
        }
        running = (job_runs.c.id == run_id) & (job_runs.c.status == "running")
        with self.store.connect() as db:
            db.execute(update(job_runs).where(running).values(**values))
        return self.get(run_id)

    def set_group(self, run_id: int, pgid: int, log_path: str, started: float) -> None:
        values = {"pgid": pgid, "log_path": log_path, "started": started}
        with self.store.connect() as db:
            db.execute(update(job_runs).where(job_runs.c.id == run_id).values(**values))

    def record_missed(
        self,
        db: Connection,
        job: str,
        first: float,
        last: float,
        count: int,
        notify: bool,
        capped: bool = False,
    ) -> None:
        """One row per outage, not per slot: a seconds schedule down for an hour is one line."""
        what = "1 scheduled run" if count == 1 else f"{count} scheduled runs"
        what = f"more than {what}" if capped else what
        error = f"missed {what}: the scheduler was not running (or too late) at that time"
        row = {
            "job": job,
            "status": "missed",
            "trigger": "schedule",
            "scheduled": first,
            "started": last,
            "ended": last,
            "error": error,
            "notify_pending": int(notify),
        }
        db.execute(insert(job_runs).values(**row))

    def last_evaluated(self, db: Connection, job: str) -> float | None:
        found = db.execute(select(job_state.c.last_evaluated).where(job_state.c.job == job)).first()
        return None if found is None else float(found[0])

    def set_evaluated(self, db: Connection, job: str, when: float) -> None:
        """Slots up to `when` are handled; never moves back."""
        db.execute(insert_ignore(db, job_state, {"job": job, "last_evaluated": when}))
        later = (job_state.c.job == job) & (job_state.c.last_evaluated < when)
        db.execute(update(job_state).where(later).values(last_evaluated=when))

    def count_skip(self, job: str) -> None:
        now = time.time()
        with self.store.connect() as db:
            db.execute(insert_ignore(db, job_state, {"job": job, "last_evaluated": now}))
            db.execute(
                update(job_state)
                .where(job_state.c.job == job)
                .values(skipped=job_state.c.skipped + 1, last_skipped=now)
            )

    def skips(self, job: str) -> tuple[int, float | None]:
        query = select(job_state.c.skipped, job_state.c.last_skipped).where(job_state.c.job == job)
        with self.store.connect() as db:
            found = db.execute(query).first()
        return (0, None) if found is None else (int(found[0]), found[1])

    def pending_notifications(self) -> list[JobRun]:
        """Failed / missed runs whose `notify` asks for a message nobody has sent yet."""
        return [run for run, _ in self.notifications()]

    def notifications(self) -> list[tuple[JobRun, str]]:
        """The pending notifications with each run's output (inside a block: the caller's)."""
        query = select(job_runs).where(job_runs.c.notify_pending == 1).order_by(job_runs.c.id)
        with self.store.connect() as db:
            rows = db.execute(query).mappings().all()
        return [(from_row(JobRun, r), str(r["output"])) for r in rows]

    def mark_notified(self, run_id: int) -> None:
        with self.store.connect() as db:
            db.execute(update(job_runs).where(job_runs.c.id == run_id).values(notify_pending=0))

    def problem_counts(self, since: float, until: float) -> list[tuple[str, str, int]]:
        """(job, status, runs) of the failed, missed and interrupted runs started in
        [since, until], by job."""
        n = func.count().label("n")
        query = (
            select(job_runs.c.job, job_runs.c.status, n)
            .where(job_runs.c.started.between(since, until), job_runs.c.status.in_(PROBLEMS))
            .group_by(job_runs.c.job, job_runs.c.status)
            .order_by(job_runs.c.job, job_runs.c.status)
        )
        with self.store.connect() as db:
            rows = db.execute(query).all()
        return [(str(r[0]), str(r[1]), int(r[2])) for r in rows]

    def result_totals(self) -> list[tuple[str, str, int, float]]:
        """(job, status, runs, seconds run in all) of the finished runs kept, by job and status
        (`ok` included; a missed run took no time)."""
        took = func.coalesce(func.sum(job_runs.c.ended - job_runs.c.started), 0.0).label("took")
        query = (
            select(job_runs.c.job, job_runs.c.status, func.count().label("n"), took)
            .where(job_runs.c.status != "running", job_runs.c.ended.is_not(None))
            .group_by(job_runs.c.job, job_runs.c.status)
            .order_by(job_runs.c.job, job_runs.c.status)
        )
        with self.store.connect() as db:
            rows = db.execute(query).all()
        return [(str(r[0]), str(r[1]), int(r[2]), max(0.0, float(r[3]))) for r in rows]

    def prune(self, retention: float) -> int:
        now = time.time()
        old = (job_runs.c.status != "running") & (job_runs.c.started < now - retention)
        with self.store.connect() as db:
            gone = db.execute(delete(job_runs).where(old)).rowcount
            db.execute(delete(job_requests).where(job_requests.c.requested < now - REQUESTS_KEPT))
            agent_commands.prune(db, now - retention)  # commands run by agents age alike
        return int(gone)
