"""Followed logs (`tail --follow` in Slack) as every supbot process sees them.

One `kv` row per follow, `follow:<id>` → {"until": database time, "stopped_by": mention}: the
Stop click may reach any worker or replica, which records who stopped it here; the process that
refreshes the message reads it at its next look. A row outlives its follow only when that
process died; it is dropped once its `until` has passed.
"""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Connection, delete, insert, select, update

from bot.storage.tables import kv

PREFIX = "follow:"


def _key(follow_id: str) -> str:
    return PREFIX + follow_id


def _rows(db: Connection) -> dict[str, dict[str, Any]]:
    found = db.execute(select(kv.c.key, kv.c.value).where(kv.c.key.startswith(PREFIX)))
    return {str(key): json.loads(value) for key, value in found}


def active(db: Connection, now: float) -> int:
    """How many follows are running in every process; drops those past their end."""
    rows = _rows(db)
    over = [key for key, value in rows.items() if float(value.get("until", 0)) < now]
    if over:
        db.execute(delete(kv).where(kv.c.key.in_(over)))
    return len(rows) - len(over)


def begin(db: Connection, follow_id: str, until: float) -> None:
    value = json.dumps({"until": until, "stopped_by": ""})
    db.execute(insert(kv).values(key=_key(follow_id), value=value, updated=time.time()))


def ask_stop(db: Connection, follow_id: str, by: str, now: float) -> bool:
    """Record that `by` stopped the follow; False when it is no longer running anywhere."""
    value = _value(db, follow_id)
    if value is None or float(value.get("until", 0)) < now:
        return False
    value["stopped_by"] = value.get("stopped_by") or by  # the first click is the one shown
    db.execute(
        update(kv)
        .where(kv.c.key == _key(follow_id))
        .values(value=json.dumps(value), updated=time.time())
    )
    return True


def stopped_by(db: Connection, follow_id: str) -> str:
    """Who stopped the follow from any process ("" while nobody has)."""
    value = _value(db, follow_id)
    return "" if value is None else str(value.get("stopped_by") or "")


def end(db: Connection, follow_id: str) -> None:
    db.execute(delete(kv).where(kv.c.key == _key(follow_id)))


def _value(db: Connection, follow_id: str) -> dict[str, Any] | None:
    found = db.execute(select(kv.c.value).where(kv.c.key == _key(follow_id))).scalar()
    return None if found is None else dict(json.loads(found))
