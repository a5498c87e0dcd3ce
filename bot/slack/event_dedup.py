"""Slack retries an event it got no 2xx for within 3 s: remember event_ids in the shared DB."""

from __future__ import annotations

import time

from bot.state import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS slack_events (
    event_id TEXT PRIMARY KEY,
    at REAL NOT NULL
)
"""
KEEP = 3600.0  # Slack retries within minutes


def first_delivery(store: Store, event_id: str) -> bool:
    """True the first time an event_id is seen by any supbot process."""
    if not event_id:
        return True
    store.ensure(SCHEMA)
    now = time.time()
    with store.transaction() as db:
        db.execute("DELETE FROM slack_events WHERE at < ?", (now - KEEP,))
        cur = db.execute(
            "INSERT OR IGNORE INTO slack_events(event_id, at) VALUES (?, ?)", (event_id, now)
        )
        return cur.rowcount == 1
