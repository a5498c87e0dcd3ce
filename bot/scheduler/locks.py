"""Overlap locks that never go stale and never double-run.

A lock is the run's own `running` row: it names the process that started the job (pid + its
start time, so a reused pid does not count) and the job's process group. It is free only when
neither is alive. A zombie does not count as alive: nobody may ever reap it in a container.
Claims happen inside `store.transaction()` (BEGIN IMMEDIATE), so two processes cannot both win.
Rows held by another host cannot be checked from here and count as alive.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.runs.alive import HOST, group_alive, my_start, process_alive
from bot.scheduler.store import History, JobRun, run_from_row

# Runs a thread of this process is supervising. A run of ours that is not here (its outcome
# could not be recorded: a full or broken state database) is closed by the next reap instead
# of holding its lock for as long as this process lives.
SUPERVISED: set[int] = set()


def row_alive(row: sqlite3.Row) -> bool:
    if _mine(row):
        return row["id"] in SUPERVISED or group_alive(row["pgid"], row["host"])
    return process_alive(row["runner_pid"], row["runner_started"], row["host"]) or group_alive(
        row["pgid"], row["host"]
    )


def _mine(row: sqlite3.Row) -> bool:
    return (
        row["host"] == HOST
        and row["runner_pid"] == os.getpid()
        and abs(row["runner_started"] - my_start()) < 1.0
    )


@dataclass(frozen=True)
class Claim:
    """The outcome of asking for a job's lock: a new run id, or why not."""

    run_id: int = 0
    blocker: JobRun | None = None  # the live run that holds the lock (overlap = skip)
    slot_taken: bool = False  # someone already handled this scheduled slot
    gone: bool = False  # the run-now request was taken by another process


class Locks:
    def __init__(self, history: History, read_output: Callable[[str], str]) -> None:
        self.history = history
        self.read_output = read_output  # log path → redacted tail, for interrupted runs

    def reap(self, db: sqlite3.Connection, job: str | None = None) -> list[int]:
        """Close the runs whose starter and process group are both gone: interrupted."""
        closed = []
        for row in self.history.running_rows(db, job):
            if row_alive(row):
                continue
            output = ""
            if row["log_path"]:
                output = self.read_output(row["log_path"])
                Path(row["log_path"]).unlink(missing_ok=True)
            error = "the process running this job stopped before it finished"
            if _mine(row):
                error = "supbot could not record how this run ended (see its log)"
            db.execute(
                "UPDATE job_runs SET status='interrupted', ended=?, output=?, error=?, "
                "notify_pending=1 WHERE id=? AND status='running'",
                (time.time(), output, error, row["id"]),
            )
            closed.append(row["id"])
        return closed

    def reap_all(self) -> list[int]:
        with self.history.store.transaction() as db:
            return self.reap(db)

    def claim(
        self,
        job: str,
        exclusive: bool,
        trigger: str,
        actor: str = "",
        slot: float | None = None,
        request: int | None = None,
    ) -> Claim:
        """Atomically: take the request, consume `slot`, free dead locks, take the job's lock."""
        with self.history.store.transaction() as db:
            if request is not None:
                cur = db.execute(
                    "UPDATE job_requests SET state='taken' WHERE id=? AND state='pending'",
                    (request,),
                )
                if cur.rowcount == 0:
                    return Claim(gone=True)
            if slot is not None:
                last = self.history.last_evaluated(db, job)
                if last is not None and last >= slot:
                    _answer(db, request, "refused", 0, "it already ran for this scheduled time")
                    return Claim(slot_taken=True)
                self.history.set_evaluated(db, job, slot)
            self.reap(db, job)
            if exclusive:
                live = self.history.running_rows(db, job)
                if live:
                    blocker = run_from_row(live[0])
                    _answer(db, request, "refused", blocker.id, busy_message(blocker))
                    return Claim(blocker=blocker)
            cur = db.execute(
                "INSERT INTO job_runs(job, status, trigger, actor, scheduled, started, "
                "runner_pid, runner_started, host) VALUES (?, 'running', ?, ?, ?, ?, ?, ?, ?)",
                (job, trigger, actor, slot, time.time(), os.getpid(), my_start(), HOST),
            )
            run_id = int(cur.lastrowid or 0)
            SUPERVISED.add(run_id)  # before the commit: a reap in another thread must not close it
            _answer(db, request, "started", run_id, "")
            return Claim(run_id=run_id)


def busy_message(blocker: JobRun) -> str:
    ago = time.time() - blocker.started
    return (
        f"`{blocker.job}` is still running (run #{blocker.id}, started {ago:.0f}s ago) and "
        "does not allow overlapping runs."
    )


def _answer(
    db: sqlite3.Connection, request: int | None, state: str, run_id: int, error: str
) -> None:
    if request is not None:
        db.execute(
            "UPDATE job_requests SET state=?, run_id=?, error=? WHERE id=?",
            (state, run_id or None, error, request),
        )
