"""The queries behind AlertStore (bot/storage/alerts/store.py), each on a connection the
caller's block holds. Imported at the first use: a command that never touches the state
(`supbot status`) does not load SQLAlchemy."""

from __future__ import annotations

import json
import time
from typing import Any

from sqlalchemy import Connection, Integer, Text, cast, delete, func, select, update

from bot.alerts.records import EventRecord, Incident, ProcessEvent, Rollup, Snooze
from bot.storage.alerts import rows
from bot.storage.alerts.tx import UNSENT
from bot.storage.tables import (
    alert_events,
    alert_expected,
    alert_incidents,
    alert_outbox,
    alert_pace,
    alert_pages,
    alert_rollups,
    alert_snoozes,
    kv,
)
from bot.storage.upsert import insert_ignore, upsert

# The digest counts these outcomes (not duplicates, expected stops or ignored events).
NOT_COUNTED = ("duplicate", "expected stop", "ignored", "")

ev_, inc_, out_ = alert_events.c, alert_incidents.c, alert_outbox.c


def _exists(db: Connection, table: Any, *where: Any) -> bool:
    return db.execute(select(1).select_from(table).where(*where).limit(1)).first() is not None


def _count(db: Connection, *where: Any) -> int:
    return int(db.execute(select(func.count()).where(*where)).scalar_one())


# --- events ----------------------------------------------------------------------------


def record_event(db: Connection, event: ProcessEvent) -> bool:
    """True when a row was written (its key was new)."""
    now = time.time()
    row = {
        "key": event.key,
        "at": now,
        "node": event.node,
        "process": event.process,
        "state": event.state,
        "from_state": event.from_state,
        "pid": event.pid,
        "stop": event.stop or now,
        "exitstatus": event.exitstatus,
        "tries": event.tries,
        "source": event.source,
    }
    # RETURNING: a row comes back only when one was written (rowcount is -1 through psycopg)
    stmt = insert_ignore(db, alert_events, row).returning(ev_.id)
    return db.execute(stmt).first() is not None


def has_pending_events(db: Connection) -> bool:
    return _exists(db, alert_events, ev_.processed == 0)


def pending_events(db: Connection) -> int:
    return _count(db, ev_.processed == 0)


def counted_events(db: Connection, since: float, until: float) -> list[EventRecord]:
    crashes = ev_.state.in_(("EXITED", "BACKOFF")) & ev_.outcome.not_in(NOT_COUNTED)
    stmt = select(alert_events).where(
        ev_.processed == 1, ev_.stop.between(since, until), (ev_.state == "RUNNING") | crashes
    )
    return [rows.event(r) for r in db.execute(stmt.order_by(ev_.stop)).mappings()]


def mark_expected(db: Connection, node: str, process: str, since: float, until: float) -> None:
    row = {"node": node, "process": process, "since": since, "until": until}
    db.execute(alert_expected.insert().values(**row))


def close_expected(
    db: Connection, node: str, process: str, until: float, forget_before: float
) -> None:
    c = alert_expected.c
    mine = (c.node == node, c.process == process, c.until > until)
    db.execute(update(alert_expected).where(*mine).values(until=until))
    db.execute(delete(alert_expected).where(c.until < forget_before))


# --- incidents -------------------------------------------------------------------------


def incident(db: Connection, incident_id: int) -> Incident | None:
    found = db.execute(select(alert_incidents).where(inc_.id == incident_id)).mappings().first()
    return None if found is None else rows.incident(found)


def rollup(db: Connection, rollup_id: int) -> Rollup | None:
    stmt = select(alert_rollups).where(alert_rollups.c.id == rollup_id)
    found = db.execute(stmt).mappings().first()
    return None if found is None else rows.rollup(found)


def incidents(db: Connection, *where: Any) -> list[Incident]:
    stmt = select(alert_incidents).where(*where).order_by(inc_.id)
    return [rows.incident(r) for r in db.execute(stmt).mappings()]


def rollup_incidents(db: Connection, rollup_id: int) -> list[Incident]:
    return incidents(db, inc_.rollup == rollup_id)


def open_incidents(db: Connection) -> list[Incident]:
    return incidents(db, inc_.status == "open", inc_.snoozed == 0)


def save_log(db: Connection, incident_id: int, lines: list[str], exitstatus: int | None) -> None:
    stmt = update(alert_incidents).where(inc_.id == incident_id)
    kept = func.coalesce(inc_.exitstatus, exitstatus)
    db.execute(stmt.values(log=json.dumps(lines), exitstatus=kept))


def has_open_incident(db: Connection, node: str, process: str) -> bool:
    where = (inc_.node == node, inc_.process == process, inc_.status == "open")
    return _exists(db, alert_incidents, *where)


def open_incident_processes(db: Connection, node: str) -> set[str]:
    stmt = select(inc_.process).where(inc_.node == node, inc_.status == "open")
    return set(db.execute(stmt).scalars())


# --- outbox ----------------------------------------------------------------------------


def has_unsent(db: Connection) -> bool:
    return _exists(db, alert_outbox, out_.status.in_(UNSENT))


def retry(db: Connection, row_id: int, not_before: float, error: str, count: bool) -> None:
    db.execute(
        update(alert_outbox)
        .where(out_.id == row_id)
        .values(
            status="pending",
            claimed_by=None,
            claimed_at=None,
            not_before=not_before,
            attempts=out_.attempts + (1 if count else 0),
            error=error[:500],
        )
    )


def rate_limited(db: Connection, channel: str, now: float, until: float) -> None:
    row = {"channel": channel, "tokens": 0.0, "updated": now, "not_before": until}
    db.execute(upsert(db, alert_pace, row, ["channel"]))


def fail(db: Connection, row_id: int, error: str) -> None:
    stmt = update(alert_outbox).where(out_.id == row_id)
    db.execute(stmt.values(status="failed", error=error[:500]))


def resend_plain(db: Connection, row_id: int, payload: dict[str, Any]) -> None:
    stmt = update(alert_outbox).where(out_.id == row_id)
    db.execute(stmt.values(status="pending", payload=json.dumps(payload)))


def release_held(db: Connection) -> int:
    """How many rows held for a refusal may be tried now."""
    held = (out_.status == "pending", out_.error.like("held:%"))
    return int(db.execute(update(alert_outbox).where(*held).values(not_before=0)).rowcount)


def backlog(db: Connection, held: bool) -> int:
    where = [out_.status.in_(UNSENT)]
    if not held:
        holding = select(out_.channel).where(out_.status == "pending", out_.error.like("held:%"))
        where.append(out_.channel.not_in(holding))
    return _count(db, *where)


# --- snoozes ---------------------------------------------------------------------------


def snoozes(db: Connection, *where: Any) -> list[Snooze]:
    c = alert_snoozes.c
    stmt = select(alert_snoozes).where(c.until > time.time(), *where).order_by(c.until)
    return [rows.snooze(r) for r in db.execute(stmt).mappings()]


def snooze(db: Connection, node: str, process: str) -> Snooze | None:
    c = alert_snoozes.c
    found = snoozes(db, c.node == node, c.process == process)
    return found[0] if found else None


# --- small records in kv ---------------------------------------------------------------


def get(db: Connection, key: str) -> str | None:
    found = db.execute(select(kv.c.value).where(kv.c.key == key)).scalar()
    return None if found is None else str(found)


def put(db: Connection, key: str, value: str) -> None:
    db.execute(upsert(db, kv, {"key": key, "value": value, "updated": time.time()}, ["key"]))


def add(db: Connection, key: str, count: int) -> None:
    """Add `count` to the integer kept under `key` (0 when missing)."""
    row = {"key": key, "value": str(count), "updated": time.time()}
    summed = cast(cast(kv.c.value, Integer) + count, Text)
    db.execute(upsert(db, kv, row, ["key"], values={"value": summed}))


def forget(db: Connection, key: str) -> None:
    db.execute(delete(kv).where(kv.c.key == key))


# --- retention -------------------------------------------------------------------------


def prune(db: Connection, cutoff: float, events_cutoff: float) -> None:
    done = out_.status.in_(("sent", "failed"))
    db.execute(delete(alert_outbox).where(done, out_.created < cutoff))
    db.execute(delete(alert_incidents).where(inc_.status != "open", inc_.last < cutoff))
    db.execute(delete(alert_events).where(ev_.processed == 1, ev_.at < events_cutoff))
    db.execute(delete(alert_rollups).where(alert_rollups.c.last < cutoff))
    db.execute(delete(alert_pages).where(alert_pages.c.incident.not_in(select(inc_.id))))
