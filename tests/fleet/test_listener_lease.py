"""A listener's liveness is its lease in the database's clock, not the reader's clock."""

from __future__ import annotations

from sqlalchemy import update

from bot.alerts.listener import LISTENER_LIVE, last_beat
from bot.state import Store
from bot.storage.tables import heartbeats


def test_a_listener_is_live_while_its_lease_runs_and_silent_once_it_ran_out(
    state_store: Store,
) -> None:
    assert last_beat(state_store, "app2") is None  # never ran: the watcher's normal mode
    state_store.heartbeat("listener:app2", "started", LISTENER_LIVE)
    seen, live = last_beat(state_store, "app2") or (0.0, False)
    assert live and seen > 0
    with state_store.connect() as db:  # a fresh `seen` from a skewed host clock counts for nothing
        now = state_store.now(db)
        mine = heartbeats.c.name == "listener:app2"
        db.execute(update(heartbeats).where(mine).values(seen=now + 3600, lease_until=now - 1))
    assert last_beat(state_store, "app2") == (now + 3600, False)
