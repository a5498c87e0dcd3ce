"""The writer's side of LISTEN/NOTIFY (bot/storage/listen.py is the waiter's)."""

from __future__ import annotations

from sqlalchemy import Connection, func, select

from bot.storage.listen import PREFIX


def pg_notify(db: Connection, topic: str) -> None:
    """Tell the waiters of `topic` on every host, at this transaction's commit."""
    db.execute(select(func.pg_notify(f"{PREFIX}{topic}", "")))
