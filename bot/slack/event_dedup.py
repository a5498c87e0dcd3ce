"""Slack retries an event it got no 2xx for within 3 s: remember event_ids in the shared DB."""

from __future__ import annotations

import time

from bot.state import Store

KEEP = 3600.0  # Slack retries within minutes


def first_delivery(store: Store, event_id: str) -> bool:
    """True the first time an event_id is seen by any supbot process."""
    if not event_id:
        return True
    from bot.storage import slack_events

    # A write block: two processes handed the same retry agree on which one saw it first.
    with store.transaction() as db:
        return slack_events.remember(db, event_id, time.time(), KEEP)
