"""The audit channel's cursor (bot/slack/audit_channel.py): the last audit entry queued for
each channel, moved in the transaction that queues the lines."""

from __future__ import annotations

from sqlalchemy import Connection, select, update

from bot.storage.tables import audit_feed
from bot.storage.upsert import insert_ignore

c = audit_feed.c


def cursor(db: Connection, channel: str) -> tuple[int, float] | None:
    """(last id, its time) of the channel, None before its first use."""
    found = db.execute(select(c.last_id, c.last_at).where(c.channel == channel)).first()
    return None if found is None else (int(found[0]), float(found[1]))


def place(db: Connection, channel: str, last_id: int, last_at: float) -> None:
    """The channel's first cursor (another process may have placed it first: kept)."""
    row = {"channel": channel, "last_id": last_id, "last_at": last_at}
    db.execute(insert_ignore(db, audit_feed, row))


def move(db: Connection, channel: str, last_id: int, last_at: float) -> None:
    stmt = update(audit_feed).where(c.channel == channel)
    db.execute(stmt.values(last_id=last_id, last_at=last_at))
