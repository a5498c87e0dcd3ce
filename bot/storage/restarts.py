"""Restarts of processes over a recent window, read from the alerts' process events (kept at
least 8 days, bot/alerts/housekeeping.py): each RUNNING event is a (re)start, as the digest
counts them. Only nodes whose events are recorded (a listener or watcher runs for them) have
figures: for the others "0 restarts" would be a guess."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, func, select

from bot.storage.tables import alert_events as t


def since(db: Connection, nodes: Iterable[str], start: float) -> dict[str, dict[str, int]]:
    """node → process → RUNNING events after `start`, for each of `nodes` that has any event
    recorded at all (a process without a restart is absent from its node's map)."""
    wanted = sorted(set(nodes))
    watched = select(t.c.node).where(t.c.node.in_(wanted)).group_by(t.c.node)
    found: dict[str, dict[str, int]] = {str(r[0]): {} for r in db.execute(watched)}
    n = func.count().label("n")
    query = (
        select(t.c.node, t.c.process, n)
        .where(t.c.node.in_(wanted), t.c.state == "RUNNING", t.c.at > start)
        .group_by(t.c.node, t.c.process)
    )
    for node, process, count in db.execute(query):
        found.setdefault(str(node), {})[str(process)] = int(count)
    return found
