"""Job history and per-job schedule state (tables job_runs, job_state): records, no policy.

A run's row in state `running` is also its overlap lock (bot/scheduler/locks.py; the claim
itself is in job_locks.py): one source of truth, so a lock cannot outlive or diverge from the
run it protects. Finishing a run frees its lock key in the same statement.
"""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING

from bot.state import Store
from bot.storage.job_records import JobRun

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from bot.storage.job_history import HistoryQueries


class History:
    """Reads and writes of the scheduler tables (no policy here). Methods taking `db` run in
    the caller's block; the others open their own. The queries (and SQLAlchemy) load at the
    first use (bot/storage/job_history.py)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @cached_property
    def _q(self) -> HistoryQueries:
        from bot.storage.job_history import HistoryQueries

        return HistoryQueries(self.store)

    def get(self, run_id: int) -> JobRun | None:
        return self._q.get(run_id)

    def output(self, run_id: int) -> str:
        return self._q.output(run_id)

    def recent(self, job: str, limit: int = 10) -> list[JobRun]:
        return self._q.recent(job, limit=limit)

    def last(self, job: str) -> JobRun | None:
        return self._q.last(job)

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
        return self._q.finish(
            run_id, status, exit_code, output, error=error, notify=notify, ended=ended
        )

    def set_group(self, run_id: int, pgid: int, log_path: str, started: float) -> None:
        return self._q.set_group(run_id, pgid, log_path, started)

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
        return self._q.record_missed(db, job, first, last, count, notify, capped=capped)

    def last_evaluated(self, db: Connection, job: str) -> float | None:
        return self._q.last_evaluated(db, job)

    def set_evaluated(self, db: Connection, job: str, when: float) -> None:
        return self._q.set_evaluated(db, job, when)

    def count_skip(self, job: str) -> None:
        return self._q.count_skip(job)

    def skips(self, job: str) -> tuple[int, float | None]:
        return self._q.skips(job)

    def pending_notifications(self) -> list[JobRun]:
        return self._q.pending_notifications()

    def notifications(self) -> list[tuple[JobRun, str]]:
        return self._q.notifications()

    def mark_notified(self, run_id: int) -> None:
        return self._q.mark_notified(run_id)

    def problem_counts(self, since: float, until: float) -> list[tuple[str, str, int]]:
        return self._q.problem_counts(since, until)

    def result_totals(self) -> list[tuple[str, str, int, float]]:
        return self._q.result_totals()

    def prune(self, retention: float) -> int:
        return self._q.prune(retention)
