"""Leadership on both engines: the singleton loops run while this process holds the lease,
stop as soon as another holder has it, and start afresh when it is won back."""

from __future__ import annotations

import threading

from sqlalchemy import update

from bot.ha.leadership import Leadership, Loop
from bot.state import Store
from bot.storage.tables import leases
from tests.conftest import wait_until


class Counted:
    """A loop that says whether it runs (a stand-in for the watcher: what runs is the point)."""

    name = "counted"

    def __init__(self, running: list[Counted]) -> None:
        self.running = running

    def run(self, stop: threading.Event) -> None:
        self.running.append(self)
        stop.wait()
        self.running.remove(self)


def spawn(loops: list[Loop], stop: threading.Event) -> list[threading.Thread]:
    threads = [threading.Thread(target=loop.run, args=(stop,), daemon=True) for loop in loops]
    for thread in threads:
        thread.start()
    return threads


def _another_holds(store: Store, until_in: float) -> None:
    with store.transaction() as db:
        now = store.now(db)
        held = dict(holder="elsewhere:7:1.00", host="elsewhere", pid=7, until=now + until_in)
        db.execute(update(leases).where(leases.c.name == "alerts-leader").values(**held))


def test_loops_stop_when_another_replica_holds_the_lease_and_restart_when_won_back(
    state_store: Store,
) -> None:
    running: list[Counted] = []
    made: list[Counted] = []

    def make() -> list[Loop]:
        made.append(Counted(running))
        return [made[-1]]

    leadership = Leadership(state_store, make, spawn).start()
    try:
        wait_until(lambda: len(running) == 1, 10)
        assert leadership.loops == ["counted"]
        _another_holds(state_store, until_in=30)  # it took over (our lease ran out, say)
        wait_until(lambda: not running, 10)  # at the next renewal at the latest: 2 s
        assert leadership.loops == []
        _another_holds(state_store, until_in=-1)  # its holder died and the lease expired
        wait_until(lambda: len(running) == 1, 10)
        assert running[0] is made[-1] and len(made) == 2  # a fresh loop, not the old one
    finally:
        leadership.stop()
    assert not running
    with state_store.connect() as db:
        assert db.execute(leases.select()).first() is None  # released: a standby need not wait
