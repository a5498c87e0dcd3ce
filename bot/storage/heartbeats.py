"""Heartbeats: who is alive as a named role (listener per node, scheduler, agent), from which
host and process, until when in database time."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, delete, func, select, update

from bot.runs.alive import HOST, my_start
from bot.storage.tables import heartbeats
from bot.storage.upsert import upsert


def beat(db: Connection, name: str, detail: str, lease: float, now: float) -> None:
    row = {
        "name": name,
        "pid": os.getpid(),
        "host": HOST,
        "seen": now,
        "detail": detail,
        "started": my_start(),
        "lease_until": now + lease if lease else 0.0,
    }
    db.execute(upsert(db, heartbeats, row, ["name"]))


def last(db: Connection, name: str) -> Mapping[str, Any] | None:
    found = db.execute(select(heartbeats).where(heartbeats.c.name == name)).mappings().first()
    return None if found is None else dict(found)


def judged(db: Connection, name: str, now: float, grace: float) -> tuple[float, bool] | None:
    """(seen, alive) of `name` at database time `now`: alive while its lease runs, or within
    `grace` of its last beat when it took none. None: it never beat."""
    row = last(db, name)
    if row is None:
        return None
    until = float(row["lease_until"]) or float(row["seen"]) + grace
    return float(row["seen"]), now < until


def live(db: Connection, prefix: str, now: float) -> int:
    """How many `prefix…` heartbeats hold a lease at database time `now`."""
    alive = heartbeats.c.name.startswith(prefix, autoescape=True) & (heartbeats.c.lease_until > now)
    return int(db.execute(select(func.count()).where(alive)).scalar_one())


def stopped(db: Connection, name: str, pid: int) -> None:
    """`name` stopped on purpose (as this pid): not alive, no lease, said in its detail."""
    mine = (heartbeats.c.name == name) & (heartbeats.c.pid == pid)
    db.execute(update(heartbeats).where(mine).values(seen=0.0, lease_until=0.0, detail="stopped"))


def every(db: Connection) -> list[dict[str, Any]]:
    """Every heartbeat, by name."""
    found = db.execute(select(heartbeats).order_by(heartbeats.c.name)).mappings().all()
    return [dict(row) for row in found]


def forget_silent(db: Connection, prefix: str, before: float) -> None:
    """Drop the heartbeats named `prefix…` not seen since `before` (replicas gone for good)."""
    old = heartbeats.c.name.startswith(prefix, autoescape=True) & (heartbeats.c.seen < before)
    db.execute(delete(heartbeats).where(old))
