"""chat.update's budget is the workspace's: every live replica (and each of its workers) takes
its share, on both engines, and the share follows replicas that join or die."""

from __future__ import annotations

from sqlalchemy import update

from bot.slack.live import UpdateBudget
from bot.state import Store
from bot.storage import heartbeats
from bot.storage.tables import heartbeats as heartbeat_rows


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _takes(budget: UpdateBudget) -> int:
    """How many edits the budget allows right now."""
    taken = 0
    while budget.take():
        taken += 1
    return taken


def test_live_counts_the_replicas_that_hold_a_lease(state_store: Store) -> None:
    state_store.heartbeat("serve:a:1", "http", lease=6.0)
    state_store.heartbeat("serve:b:2", "http", lease=6.0)
    state_store.heartbeat("agent:app1", "agent", lease=6.0)  # not a replica
    assert state_store.live("serve:") == 2
    with state_store.transaction() as db:
        heartbeats.stopped(db, "serve:b:2", heartbeats.last(db, "serve:b:2")["pid"])  # type: ignore[index]
    assert state_store.live("serve:") == 1
    with state_store.transaction() as db:  # a's lease ran out: killed, not stopped
        db.execute(update(heartbeat_rows).values(lease_until=0.5))
    assert state_store.live("serve:") == 0


def test_each_live_replica_takes_its_share_of_the_edits(state_store: Store) -> None:
    clock = Clock()
    workers = 2
    state_store.heartbeat("serve:a:1", "http", lease=60.0)
    state_store.heartbeat("serve:b:2", "http", lease=60.0)
    budget = UpdateBudget(
        per_minute=60.0, burst=8, shares=lambda: workers * state_store.live("serve:"), clock=clock
    )
    assert _takes(budget) == 2  # a burst of 8 shared by 4 processes
    clock.now += 4.0  # 60 a minute shared by 4: one every 4 s
    assert _takes(budget) == 1
    with state_store.transaction() as db:  # replica b is gone
        heartbeats.stopped(db, "serve:b:2", heartbeats.last(db, "serve:b:2")["pid"])  # type: ignore[index]
    clock.now += UpdateBudget.SHARES_EVERY  # asked again: 2 processes now
    assert _takes(budget) == 4
    clock.now += 2.0
    assert _takes(budget) == 1


def test_a_budget_without_shares_is_the_whole_workspace_budget() -> None:
    clock = Clock()
    budget = UpdateBudget(per_minute=60.0, burst=5, clock=clock)
    assert _takes(budget) == 5
    clock.now += 1.0
    assert _takes(budget) == 1
