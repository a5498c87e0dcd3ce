"""Job history, per-job schedule state and run-now requests, in the shared state database.

A run's row in state `running` is also its overlap lock (see locks.py): one source of truth,
so a lock cannot outlive or diverge from the run it protects.
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass

from bot.state import Store, from_row

SCHEMA = """
CREATE TABLE IF NOT EXISTS job_runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    status TEXT NOT NULL,
    trigger TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    scheduled REAL,
    started REAL NOT NULL,
    ended REAL,
    exit_code INTEGER,
    error TEXT NOT NULL DEFAULT '',
    output TEXT NOT NULL DEFAULT '',
    runner_pid INTEGER NOT NULL DEFAULT 0,
    runner_started REAL NOT NULL DEFAULT 0,
    pgid INTEGER NOT NULL DEFAULT 0,
    host TEXT NOT NULL DEFAULT '',
    log_path TEXT NOT NULL DEFAULT '',
    notify_pending INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS job_runs_job ON job_runs(job, id);
CREATE INDEX IF NOT EXISTS job_runs_status ON job_runs(status);
CREATE TABLE IF NOT EXISTS job_state (
    job TEXT PRIMARY KEY,
    last_evaluated REAL NOT NULL,
    skipped INTEGER NOT NULL DEFAULT 0,
    last_skipped REAL
);
CREATE TABLE IF NOT EXISTS job_requests (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    job TEXT NOT NULL,
    trigger TEXT NOT NULL,
    actor TEXT NOT NULL DEFAULT '',
    slot REAL,
    requested REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    run_id INTEGER,
    error TEXT NOT NULL DEFAULT ''
)
"""

FINISHED = ("ok", "failed", "missed", "interrupted")


@dataclass(frozen=True)
class JobRun:
    """One run (or one missed slot) of a job. `status`: running ok failed missed interrupted,
    or `skipped` for a start refused because the previous run still held the lock (never stored)."""

    id: int
    job: str
    status: str
    trigger: str  # schedule | slack | cli | api | console
    actor: str
    started: float
    scheduled: float | None = None
    ended: float | None = None
    exit_code: int | None = None
    error: str = ""
    pgid: int = 0

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else max(0.0, self.ended - self.started)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def by(self) -> str:
        """Who started it, for people: 'schedule', '<@U1> via slack', 'cli:alice'."""
        if self.trigger == "schedule":
            return "schedule"
        if self.actor.startswith(("U", "W")):
            return f"<@{self.actor}> via {self.trigger}"
        return self.actor or self.trigger


def run_from_row(row: sqlite3.Row) -> JobRun:
    return from_row(JobRun, row)


class History:
    """Reads and writes of the scheduler tables (no policy here)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure(SCHEMA)

    def get(self, run_id: int) -> JobRun | None:
        with self.store.connect() as db:
            row = db.execute("SELECT * FROM job_runs WHERE id=?", (run_id,)).fetchone()
        return run_from_row(row) if row else None

    def output(self, run_id: int) -> str:
        with self.store.connect() as db:
            row = db.execute("SELECT output FROM job_runs WHERE id=?", (run_id,)).fetchone()
        return str(row["output"]) if row else ""

    def recent(self, job: str, limit: int = 10) -> list[JobRun]:
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT * FROM job_runs WHERE job=? ORDER BY id DESC LIMIT ?", (job, limit)
            ).fetchall()
        return [run_from_row(r) for r in rows]

    def last(self, job: str) -> JobRun | None:
        runs = self.recent(job, 1)
        return runs[0] if runs else None

    def running_rows(self, db: sqlite3.Connection, job: str | None = None) -> list[sqlite3.Row]:
        if job is None:
            return db.execute("SELECT * FROM job_runs WHERE status='running'").fetchall()
        return db.execute(
            "SELECT * FROM job_runs WHERE status='running' AND job=?", (job,)
        ).fetchall()

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
        """Close a run once: a row already finished (e.g. reaped) is left as it is."""
        with self.store.connect() as db:
            db.execute(
                "UPDATE job_runs SET status=?, exit_code=?, output=?, error=?, ended=?, "
                "notify_pending=? WHERE id=? AND status='running'",
                (status, exit_code, output, error, ended or time.time(), int(notify), run_id),
            )
        return self.get(run_id)

    def set_group(self, run_id: int, pgid: int, log_path: str, started: float) -> None:
        with self.store.connect() as db:
            db.execute(
                "UPDATE job_runs SET pgid=?, log_path=?, started=? WHERE id=?",
                (pgid, log_path, started, run_id),
            )

    def record_missed(
        self,
        db: sqlite3.Connection,
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
        db.execute(
            "INSERT INTO job_runs(job, status, trigger, scheduled, started, ended, error, "
            "notify_pending) VALUES (?, 'missed', 'schedule', ?, ?, ?, ?, ?)",
            (job, first, last, last, error, int(notify)),
        )

    def last_evaluated(self, db: sqlite3.Connection, job: str) -> float | None:
        row = db.execute("SELECT last_evaluated FROM job_state WHERE job=?", (job,)).fetchone()
        return None if row is None else float(row["last_evaluated"])

    def set_evaluated(self, db: sqlite3.Connection, job: str, when: float) -> None:
        db.execute(
            "INSERT INTO job_state(job, last_evaluated) VALUES (?, ?) ON CONFLICT(job) "
            "DO UPDATE SET last_evaluated=max(last_evaluated, excluded.last_evaluated)",
            (job, when),
        )

    def count_skip(self, job: str) -> None:
        with self.store.connect() as db:
            db.execute(
                "INSERT INTO job_state(job, last_evaluated, skipped, last_skipped) "
                "VALUES (?, ?, 1, ?) ON CONFLICT(job) DO UPDATE SET skipped=skipped+1, "
                "last_skipped=excluded.last_skipped",
                (job, time.time(), time.time()),
            )

    def skips(self, job: str) -> tuple[int, float | None]:
        with self.store.connect() as db:
            row = db.execute(
                "SELECT skipped, last_skipped FROM job_state WHERE job=?", (job,)
            ).fetchone()
        return (0, None) if row is None else (int(row["skipped"]), row["last_skipped"])

    def pending_notifications(self) -> list[JobRun]:
        """Failed / missed runs whose `notify` asks for a message nobody has sent yet."""
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT * FROM job_runs WHERE notify_pending=1 ORDER BY id"
            ).fetchall()
        return [run_from_row(r) for r in rows]

    def mark_notified(self, run_id: int) -> None:
        with self.store.connect() as db:
            db.execute("UPDATE job_runs SET notify_pending=0 WHERE id=?", (run_id,))

    def problem_counts(self, since: float, until: float) -> list[tuple[str, str, int]]:
        """(job, status, runs) of the failed, missed and interrupted runs started in
        [since, until], by job."""
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT job, status, COUNT(*) AS n FROM job_runs WHERE started BETWEEN ? AND ? "
                "AND status IN ('failed', 'missed', 'interrupted') GROUP BY job, status "
                "ORDER BY job",
                (since, until),
            ).fetchall()
        return [(r["job"], r["status"], int(r["n"])) for r in rows]

    def prune(self, retention: float) -> int:
        with self.store.connect() as db:
            cur = db.execute(
                "DELETE FROM job_runs WHERE status != 'running' AND started < ?",
                (time.time() - retention,),
            )
            db.execute("DELETE FROM job_requests WHERE requested < ?", (time.time() - 86400,))
        return cur.rowcount
