"""Overlap locks that never go stale and never double-run, on one host or many.

A lock is the run's own `running` row (bot/storage/job_locks.py): its `lock_key` is unique, so
two claimers, on any hosts, can never both hold it, and a scheduled slot's `slot_key` is unique
too. The row names the process that started the job (host, pid + its start time, so a reused
pid does not count), the job's process group, and a lease in database time:

- an owner on this host is judged by its processes: the lock is free only when neither the
  starter nor the group is alive (a zombie does not count: nobody may ever reap it in a
  container);
- an owner on another host is judged by its lease: alive while `lease_until` is ahead of the
  database's clock. The process supervising a run renews it every RENEW_EVERY seconds
  (LeaseKeeper), and every reap renews the runs of this host it finds alive (a job that
  outlived its supervisor keeps its lock while it runs). A lease past its end means the
  supervising host stopped answering for LEASE seconds: the run is closed as interrupted.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import StateUnavailable
from bot.runs.alive import HOST, group_alive, my_start, process_alive
from bot.storage.job_records import Holder, JobRun, Owner
from bot.storage.jobs import History

if TYPE_CHECKING:
    from sqlalchemy import Connection

log = logging.getLogger("supbot.scheduler")

# A run's lease, in seconds of database time; renewed every RENEW_EVERY. Long enough that a
# database hiccup of a few seconds does not close a live run from another host, short enough
# that a run whose host died frees its job within about half a minute.
LEASE = 30.0
RENEW_EVERY = 10.0

# Runs a thread of this process is supervising. A run of ours that is not here (its outcome
# could not be recorded: a full or broken state database) is closed by the next reap instead
# of holding its lock for as long as this process lives.
SUPERVISED: set[int] = set()


def me() -> Owner:
    return Owner(HOST, os.getpid(), my_start())


def _mine(owner: Owner) -> bool:
    return owner.host == HOST and owner.pid == os.getpid() and abs(owner.started - my_start()) < 1.0


def holder_alive(held: Holder, now: float) -> bool:
    """Is the run still supervised or running? `now` is the database's clock."""
    owner, pgid = held.owner, held.run.pgid
    if owner.host != HOST:
        return held.lease_until > now
    if _mine(owner):
        return held.run.id in SUPERVISED or group_alive(pgid)
    return process_alive(owner.pid, owner.started) or group_alive(pgid)


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
        self.store = history.store
        self.read_output = read_output  # log path → redacted tail, for interrupted runs

    def reap(self, db: Connection, job: str | None = None) -> list[int]:
        """Close the runs nobody supervises or runs any more: interrupted. Renew the lease of
        this host's runs found alive."""
        from bot.storage import job_locks

        now = self.store.now(db)
        closed, vouched = [], []
        for held in job_locks.running(db, job):
            if holder_alive(held, now):
                if held.owner.host == HOST:
                    vouched.append(held.run.id)
                continue
            output, error = self._last_words(held)
            if job_locks.interrupt(db, held.run.id, time.time(), output, error):
                closed.append(held.run.id)
        job_locks.renew(db, vouched, now + LEASE)
        return closed

    def _last_words(self, held: Holder) -> tuple[str, str]:
        if held.owner.host != HOST:  # its log is on that host
            return "", f"the host running this job ({held.owner.host}) stopped answering"
        output = ""
        if held.log_path:
            output = self.read_output(held.log_path)
            Path(held.log_path).unlink(missing_ok=True)
        if _mine(held.owner):
            return output, "supbot could not record how this run ended (see its log)"
        return output, "the process running this job stopped before it finished"

    def reap_all(self) -> list[int]:
        with self.store.transaction() as db:
            return self.reap(db)

    def renew(self, run_ids: list[int]) -> None:
        """Extend the leases of the runs this process supervises."""
        from bot.storage import job_locks

        with self.store.connect() as db:
            job_locks.renew(db, run_ids, self.store.now(db) + LEASE)

    def claim(
        self,
        job: str,
        exclusive: bool,
        trigger: str,
        actor: str = "",
        slot: float | None = None,
        request: int | None = None,
        node: str = "",
        per_node: bool = False,
    ) -> Claim:
        """Atomically: take the request, consume `slot`, free dead locks, take the job's lock.
        `per_node` (on = "each"): `node` has a lock and slots of its own."""
        from bot.storage import job_locks, job_requests

        key = f"{job}@{node}" if per_node else job
        with self.store.transaction() as db:
            if request is not None and not job_requests.take(db, request):
                return Claim(gone=True)
            if slot is not None:
                last = self.history.last_evaluated(db, key)
                if last is not None and last >= slot:
                    return _slot_taken(db, request)
                self.history.set_evaluated(db, key, slot)
            self.reap(db, job)
            if exclusive:
                live = job_locks.running(db, job, node if per_node else None)
                if live:
                    return _busy(db, request, live[0].run)
            lease = self.store.now(db) + LEASE
            run_id = job_locks.start_run(
                db, job, trigger, actor, slot, exclusive, me(), time.time(), lease, node, key
            )
            if not run_id:  # a key is held: a claimer the checks above did not see
                if slot is not None and job_locks.slot_taken(db, key, slot):
                    return _slot_taken(db, request)
                held = job_locks.holder(db, key)
                return _busy(db, request, held.run) if held else Claim(gone=True)
            SUPERVISED.add(run_id)  # before the commit: a reap in another thread must not close it
            _answer(db, request, "started", run_id, "")
            return Claim(run_id=run_id)


class LeaseKeeper:
    """Renews the leases of the runs `ids()` names, on a thread of its own while there are
    any; `wake()` after adding a run."""

    def __init__(self, locks: Locks, ids: Callable[[], list[int]]) -> None:
        self.locks, self.ids = locks, ids
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def wake(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._keep, name="job-leases", daemon=True)
                self._thread.start()

    def _keep(self) -> None:
        while True:
            time.sleep(RENEW_EVERY)
            with self._lock:
                ids = self.ids()
                if not ids:
                    self._thread = None
                    return
            try:
                self.locks.renew(ids)
            except StateUnavailable:  # said once by the store; the next round tries again
                pass
            except Exception:
                log.exception("could not renew the leases of runs %s", ids)


def busy_message(blocker: JobRun) -> str:
    ago = time.time() - blocker.started
    return (
        f"`{blocker.job}` is still running (run #{blocker.id}, started {ago:.0f}s ago) and "
        "does not allow overlapping runs."
    )


def _busy(db: Connection, request: int | None, blocker: JobRun) -> Claim:
    _answer(db, request, "refused", blocker.id, busy_message(blocker))
    return Claim(blocker=blocker)


def _slot_taken(db: Connection, request: int | None) -> Claim:
    _answer(db, request, "refused", 0, "it already ran for this scheduled time")
    return Claim(slot_taken=True)


def _answer(db: Connection, request: int | None, state: str, run_id: int, error: str) -> None:
    from bot.storage import job_requests

    if request is not None:
        job_requests.answer(db, request, state, run_id, error)
