"""Job locks and scheduled slots on both engines: one holder at a time, by unique keys; owners on
this host judged by their processes, owners on another host by their lease."""

from __future__ import annotations

import subprocess
import sys
import time

from bot.runs.alive import HOST
from bot.scheduler.locks import LEASE, SUPERVISED, Locks, me
from bot.state import Store
from bot.storage import job_locks
from bot.storage.job_records import Owner
from bot.storage.jobs import History

ELSEWHERE = "another-host.example"


def locks_on(store: Store, output: str = "") -> Locks:
    return Locks(History(store), lambda path: output)


def start(
    store: Store, job: str, owner: Owner, slot: float | None = None, lease: float = LEASE
) -> int:
    """A run inserted as `owner` would (the claim's INSERT, without its checks)."""
    with store.transaction() as db:
        until = store.now(db) + lease
        return job_locks.start_run(db, job, "cli", "", slot, True, owner, time.time(), until)


def test_an_exclusive_job_is_held_by_one_run_until_it_ends(state_store: Store) -> None:
    locks = locks_on(state_store)
    first = locks.claim("backup", True, "cli")
    assert first.run_id
    busy = locks.claim("backup", True, "cli")
    assert busy.blocker is not None and busy.blocker.id == first.run_id and not busy.run_id
    locks.history.finish(first.run_id, "ok", 0, "done")
    SUPERVISED.discard(first.run_id)
    again = locks.claim("backup", True, "cli")
    assert again.run_id and again.run_id != first.run_id
    SUPERVISED.discard(again.run_id)


def test_the_lock_key_refuses_a_second_holder_even_when_no_check_ran(state_store: Store) -> None:
    history = History(state_store)
    first = start(state_store, "backup", me())
    assert first and start(state_store, "backup", me()) == 0  # the UNIQUE key, not a check
    history.finish(first, "failed", 1, "")
    assert start(state_store, "backup", me())  # finishing freed the key


def test_a_scheduled_slot_is_claimed_once(state_store: Store) -> None:
    locks = locks_on(state_store)
    claim = locks.claim("report", False, "schedule", slot=1000.0)
    assert claim.run_id
    assert locks.claim("report", False, "schedule", slot=1000.0).slot_taken
    assert locks.claim("report", False, "schedule", slot=940.0).slot_taken  # handled already
    # Even a claimer that passed the schedule check cannot insert the slot again.
    assert start(state_store, "report", me(), slot=1000.0) == 0
    locks.history.finish(claim.run_id, "ok", 0, "")
    SUPERVISED.discard(claim.run_id)
    assert start(state_store, "report", me(), slot=1000.0) == 0  # a slot stays taken
    assert locks.claim("report", False, "schedule", slot=1060.0).run_id


def test_a_run_of_this_process_that_nobody_supervises_is_closed_by_the_next_reap(
    state_store: Store,
) -> None:
    locks = locks_on(state_store)
    claim = locks.claim("backup", True, "cli")
    assert locks.reap_all() == []  # its thread is supervising it: the lock holds
    # The thread ended without recording the outcome (the state database was full): the
    # launcher forgets the run, and the next reap closes it instead of leaving it `running`.
    SUPERVISED.discard(claim.run_id)
    assert locks.reap_all() == [claim.run_id]
    run = History(state_store).get(claim.run_id)
    assert run is not None and run.status == "interrupted"
    assert run.error == "supbot could not record how this run ended (see its log)"
    assert locks.claim("backup", True, "cli").run_id  # its lock is free


def test_a_run_whose_process_on_this_host_died_is_interrupted_with_its_output(
    state_store: Store,
) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    run_id = start(state_store, "backup", Owner(HOST, int(dead.stdout), time.time()))
    locks = locks_on(state_store, output="last words")
    assert locks.reap_all() == [run_id]
    run = locks.history.get(run_id)
    assert run is not None and run.status == "interrupted"
    assert run.error == "the process running this job stopped before it finished"
    assert locks.history.pending_notifications() == [run]


def test_a_run_on_another_host_holds_its_lock_while_its_lease_lasts(state_store: Store) -> None:
    remote = start(state_store, "backup", Owner(ELSEWHERE, 1, 1.0))
    locks = locks_on(state_store)
    busy = locks.claim("backup", True, "cli")
    assert busy.blocker is not None and busy.blocker.id == remote
    assert locks.reap_all() == []


def test_a_run_on_another_host_whose_lease_ran_out_is_interrupted_and_frees_the_job(
    state_store: Store,
) -> None:
    remote = start(state_store, "backup", Owner(ELSEWHERE, 1, 1.0), lease=-1.0)
    locks = locks_on(state_store)
    claim = locks.claim("backup", True, "cli")
    assert claim.run_id
    SUPERVISED.discard(claim.run_id)
    run = locks.history.get(remote)
    assert run is not None and run.status == "interrupted"
    assert run.error == f"the host running this job ({ELSEWHERE}) stopped answering"


def test_the_leases_of_live_runs_of_this_host_are_renewed(state_store: Store) -> None:
    locks = locks_on(state_store)
    mine = locks.claim("backup", True, "cli").run_id
    short = start(state_store, "other", me(), lease=1.0)
    SUPERVISED.add(short)

    def lease(run_id: int) -> float:
        with state_store.connect() as db:
            (held,) = [h for h in job_locks.running(db) if h.run.id == run_id]
            return held.lease_until

    with state_store.connect() as db:
        now = state_store.now(db)
    assert lease(short) < now + 2
    locks.renew([mine])
    assert lease(mine) >= now + LEASE
    locks.reap_all()  # a reap vouches for this host's live runs too
    assert lease(short) >= now + LEASE
    SUPERVISED.difference_update({mine, short})
