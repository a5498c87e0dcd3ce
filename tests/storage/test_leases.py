"""Leases on both engines: one holder at a time, expiry by database time, a dead local holder
replaced at once, renewals keep it."""

from __future__ import annotations

import subprocess
import sys

from sqlalchemy import update

from bot.runs.alive import HOST, holder_id
from bot.state import Store
from bot.storage import leases
from bot.storage.tables import leases as table


def _take(store: Store, name: str, ttl: float) -> bool:
    with store.transaction() as db:
        return leases.take(db, name, ttl, store.now(db))


def _pretend(store: Store, name: str, **values: object) -> None:
    """Make the lease look held by someone else (another process / host)."""
    with store.transaction() as db:
        db.execute(update(table).where(table.c.name == name).values(**values))


def test_one_holder_until_it_expires(state_store: Store) -> None:
    assert _take(state_store, "watcher", 30)
    assert _take(state_store, "watcher", 30)  # renewal by the holder
    _pretend(state_store, "watcher", holder="other-host:1:1.00", host="other-host", pid=1)
    assert not _take(state_store, "watcher", 30)  # held by a live remote holder
    with state_store.connect() as db:
        now = state_store.now(db)
    _pretend(state_store, "watcher", until=now - 1)
    assert _take(state_store, "watcher", 30)  # expired: taken over
    with state_store.connect() as db:
        got = leases.read(db, "watcher")
    assert got is not None and got.holder == holder_id()


def test_a_dead_holder_on_this_host_is_replaced_before_expiry(state_store: Store) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(dead.stdout)
    assert _take(state_store, "digest", 300)
    _pretend(state_store, "digest", holder=f"{HOST}:{pid}:1.00", host=HOST, pid=pid)
    assert _take(state_store, "digest", 300)


def test_leader_holds_renews_and_releases(state_store: Store) -> None:
    one = leases.Leader(state_store, "housekeeping", ttl=30)
    assert one.holding() and one.holding()
    one.release()
    with state_store.connect() as db:
        assert leases.read(db, "housekeeping") is None
    assert one.holding()
    _pretend(state_store, "housekeeping", holder="other:2:1.00", host="other", pid=2)
    two = leases.Leader(state_store, "housekeeping", ttl=30)
    assert not two.holding()
