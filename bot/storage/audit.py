"""The audit table (every audited action, bot/audit.py) and each audit channel's cursor
(`audit_feed`, bot/slack/audit_channel.py)."""

from __future__ import annotations

from dataclasses import asdict

from sqlalchemy import Connection, delete, insert, select, update

from bot.audit import AuditEntry
from bot.state import from_row
from bot.storage.tables import audit, audit_feed
from bot.storage.upsert import insert_ignore


def add(db: Connection, entry: AuditEntry) -> int:
    """Store `entry` (its id is ignored); the new row's id."""
    row = {k: v for k, v in asdict(entry).items() if k != "id"}
    new_id: int = db.execute(insert(audit).values(**row).returning(audit.c.id)).scalar_one()
    return new_id


def complete(db: Connection, entry_id: int, outcome: str, duration: float, error: str) -> None:
    db.execute(
        update(audit)
        .where(audit.c.id == entry_id)
        .values(outcome=outcome, duration=duration, error=error)
    )


def since(db: Connection, cutoff: float, limit: int) -> list[AuditEntry]:
    """The newest `limit` entries at or after `cutoff`, oldest first."""
    rows = db.execute(
        select(audit).where(audit.c.at >= cutoff).order_by(audit.c.id.desc()).limit(limit)
    ).mappings()
    return [from_row(AuditEntry, dict(r)) for r in reversed(list(rows))]


def prune(db: Connection, before: float) -> int:
    """Forget the entries older than `before`; how many."""
    return db.execute(delete(audit).where(audit.c.at < before)).rowcount


# --- audit channels' cursors ---------------------------------------------------------------


def cursor(db: Connection, channel: str) -> tuple[int, float] | None:
    """(last id, its time) posted to `channel`, or None before its first feed."""
    row = db.execute(
        select(audit_feed.c.last_id, audit_feed.c.last_at).where(audit_feed.c.channel == channel)
    ).first()
    return None if row is None else (int(row[0]), float(row[1]))


def place_cursor(db: Connection, channel: str, last_id: int, last_at: float) -> None:
    """The first cursor of `channel`, unless another process placed it first."""
    db.execute(
        insert_ignore(db, audit_feed, {"channel": channel, "last_id": last_id, "last_at": last_at})
    )


def move_cursor(db: Connection, channel: str, last_id: int, last_at: float) -> None:
    db.execute(
        update(audit_feed)
        .where(audit_feed.c.channel == channel)
        .values(last_id=last_id, last_at=last_at)
    )
