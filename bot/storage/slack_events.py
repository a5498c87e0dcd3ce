"""Slack event ids already handled (any process), kept while Slack may still retry them."""

from __future__ import annotations

from sqlalchemy import Connection, delete

from bot.storage.tables import slack_events
from bot.storage.upsert import insert_ignore


def remember(db: Connection, event_id: str, now: float, keep: float) -> bool:
    """Record `event_id`; True when it was not recorded yet. Ids older than `keep` go."""
    db.execute(delete(slack_events).where(slack_events.c.at < now - keep))
    row = {"event_id": event_id, "at": now}
    # RETURNING, not rowcount: an INSERT's rowcount is -1 through psycopg (SQLAlchemy 2.1).
    added = db.execute(insert_ignore(db, slack_events, row).returning(slack_events.c.event_id))
    return added.first() is not None
