"""AlertStore: the alerts' state in the shared database — events, incidents, the outbox,
snoozes, and the small per-node and digest records kept in `kv`."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from sqlalchemy import Connection, Integer, Text, cast, delete, func, select, update

from bot.alerts.records import EventRecord, Incident, ProcessEvent, Rollup, Snooze
from bot.state import Store
from bot.storage.alerts import rows
from bot.storage.alerts.tx import UNSENT, AlertTx
from bot.storage.tables import (
    alert_events,
    alert_expected,
    alert_incidents,
    alert_outbox,
    alert_pace,
    alert_rollups,
    alert_snoozes,
    kv,
)
from bot.storage.upsert import insert_ignore, upsert

LOST_KEY = "alerts.lost."
POSITION_KEY = "alerts.logpos."
DIGEST_KEY = "alerts.digest.last"
# The digest counts these outcomes (not duplicates, expected stops or ignored events).
NOT_COUNTED = ("duplicate", "expected stop", "ignored", "")

ev_, inc_, out_ = alert_events.c, alert_incidents.c, alert_outbox.c


class AlertStore:
    """Methods take and return records; each runs in its own transaction unless it says so."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def transaction(self) -> Iterator[AlertTx]:
        """One write transaction (serialized against every other: read-then-write is atomic)."""
        with self.store.transaction() as db:
            yield AlertTx(db, self.store)

    @contextmanager
    def claiming(self) -> Iterator[AlertTx]:
        """Where outbox heads are claimed. PostgreSQL: a plain transaction in which heads are
        row-locked (FOR UPDATE SKIP LOCKED), so claimers on every host work at once on other
        channels. SQLite: a write transaction (the file has one writer at a time anyway)."""
        with self._rows() as db:
            yield AlertTx(db, self.store)

    def _rows(self) -> AbstractContextManager[Connection]:
        """A block for writes to rows this process owns (a claimed row): no need to wait for
        every other writer on PostgreSQL; SQLite as before."""
        return self.store.connect() if self.store.postgresql else self.store.transaction()

    def within(self, db: Connection) -> AlertTx:
        """The alerts' operations inside a transaction another feature holds (an audit-feed
        cursor, a job notification flag), so both change together."""
        return AlertTx(db, self.store)

    def _first(self, stmt: Any) -> Any:
        with self.store.connect() as db:
            return db.execute(stmt).first()

    def _all(self, stmt: Any) -> list[Any]:
        with self.store.connect() as db:
            return list(db.execute(stmt).mappings())

    def _run(self, stmt: Any) -> int:
        with self.store.connect() as db:
            return int(db.execute(stmt).rowcount)

    # --- events ----------------------------------------------------------------------

    def record_event(self, event: ProcessEvent) -> bool:
        """Insert one event (ignored when its key is known); True when a row was written."""
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
        with self.store.connect() as db:
            # RETURNING: a row is back only when one was written (rowcount is -1 on psycopg)
            stmt = insert_ignore(db, alert_events, row).returning(ev_.id)
            written = db.execute(stmt).first() is not None
            if written:
                self.store.notify(db, "events")
        return written

    def has_pending_events(self) -> bool:
        stmt = select(1).select_from(alert_events).where(ev_.processed == 0).limit(1)
        return self._first(stmt) is not None

    def pending_events(self) -> int:
        return int(self._first(select(func.count()).where(ev_.processed == 0))[0])

    def counted_events(self, since: float, until: float) -> list[EventRecord]:
        """Handled crashes and starts that stopped in [since, until], oldest first."""
        crashes = (ev_.state.in_(("EXITED", "BACKOFF"))) & ev_.outcome.not_in(NOT_COUNTED)
        stmt = select(alert_events).where(
            ev_.processed == 1, ev_.stop.between(since, until), (ev_.state == "RUNNING") | crashes
        )
        return [rows.event(r) for r in self._all(stmt.order_by(ev_.stop))]

    def mark_expected(self, node: str, process: str, since: float, until: float) -> None:
        """Exits of the process in [since, until] are requested stops, not crashes."""
        row = {"node": node, "process": process, "since": since, "until": until}
        self._run(alert_expected.insert().values(**row))

    def close_expected(self, node: str, process: str, until: float, forget_before: float) -> None:
        """End the process's open marks at `until`; drop marks that ended before
        `forget_before`."""
        c = alert_expected.c
        with self.store.connect() as db:
            mine = (c.node == node, c.process == process, c.until > until)
            db.execute(update(alert_expected).where(*mine).values(until=until))
            db.execute(delete(alert_expected).where(c.until < forget_before))

    def add_lost(self, node: str, count: int) -> None:
        """Events supervisord discarded before the listener saw them (a counter per node)."""
        row = {"key": LOST_KEY + node, "value": str(count), "updated": time.time()}
        summed = cast(cast(kv.c.value, Integer) + count, Text)
        with self.store.connect() as db:
            db.execute(upsert(db, kv, row, ["key"], values={"value": summed}))

    def lost(self, node: str) -> int:
        value = self._get(LOST_KEY + node)
        return int(value) if value is not None else 0

    # --- incidents -------------------------------------------------------------------

    def incident(self, incident_id: int) -> Incident:
        found = self._all(select(alert_incidents).where(inc_.id == incident_id))
        assert found, f"incident {incident_id} is gone"  # pruned only when closed
        return rows.incident(found[0])

    def rollup(self, rollup_id: int) -> Rollup:
        found = self._all(select(alert_rollups).where(alert_rollups.c.id == rollup_id))
        assert found, f"roll-up {rollup_id} is gone"
        return rows.rollup(found[0])

    def rollup_incidents(self, rollup_id: int) -> list[Incident]:
        stmt = select(alert_incidents).where(inc_.rollup == rollup_id).order_by(inc_.id)
        return [rows.incident(r) for r in self._all(stmt)]

    def open_incidents(self) -> list[Incident]:
        """Every open incident that was shown (not hidden by a snooze), oldest first."""
        stmt = select(alert_incidents).where(inc_.status == "open", inc_.snoozed == 0)
        return [rows.incident(r) for r in self._all(stmt.order_by(inc_.id))]

    def save_log(self, incident_id: int, lines: list[str], exitstatus: int | None) -> None:
        """The log tail shown in the incident's first message (and the exit status, if the
        event did not carry it)."""
        stmt = update(alert_incidents).where(inc_.id == incident_id)
        self._run(
            stmt.values(
                log=json.dumps(lines), exitstatus=func.coalesce(inc_.exitstatus, exitstatus)
            )
        )

    def has_open_incident(self, node: str, process: str) -> bool:
        where = (inc_.node == node, inc_.process == process, inc_.status == "open")
        return (
            self._first(select(1).select_from(alert_incidents).where(*where).limit(1)) is not None
        )

    def open_incident_processes(self, node: str) -> set[str]:
        stmt = select(inc_.process).where(inc_.node == node, inc_.status == "open")
        return {r["process"] for r in self._all(stmt)}

    # --- outbox ----------------------------------------------------------------------

    def has_unsent(self) -> bool:
        stmt = select(1).select_from(alert_outbox).where(out_.status.in_(UNSENT)).limit(1)
        return self._first(stmt) is not None

    def posted(self, kind: str, ref: int, ts: str, row_id: int) -> None:
        """The first message of an incident or roll-up is out: keep its ts and mark the row
        sent together, so a restart never posts it twice."""
        with self._rows() as db:
            tx = AlertTx(db, self.store)
            tx.set_ts(kind, ref, ts)
            tx.sent(row_id)

    def sent(self, row_id: int) -> None:
        with self._rows() as db:
            AlertTx(db, self.store).sent(row_id)

    def retry(self, row_id: int, delay: float, error: str, count: bool = True) -> None:
        """Back to pending, not before `delay` seconds; the channel waits behind it."""
        with self.store.connect() as db:
            db.execute(
                update(alert_outbox)
                .where(out_.id == row_id)
                .values(
                    status="pending",
                    claimed_by=None,
                    claimed_at=None,
                    not_before=self.store.now(db) + delay,
                    attempts=out_.attempts + (1 if count else 0),
                    error=error[:500],
                )
            )

    def rate_limited(self, channel: str, retry_after: float) -> None:
        """Nothing more to this channel before `retry_after` seconds."""
        with self.store.connect() as db:
            now = self.store.now(db)
            row = {
                "channel": channel,
                "tokens": 0.0,
                "updated": now,
                "not_before": now + retry_after,
            }
            db.execute(upsert(db, alert_pace, row, ["channel"]))

    def fail(self, row_id: int, error: str) -> None:
        stmt = update(alert_outbox).where(out_.id == row_id)
        self._run(stmt.values(status="failed", error=error[:500]))

    def resend_plain(self, row_id: int, payload: dict[str, Any]) -> None:
        """Send the row again with `payload` (its blocks were refused: text only)."""
        with self.store.connect() as db:
            stmt = update(alert_outbox).where(out_.id == row_id)
            db.execute(stmt.values(status="pending", payload=json.dumps(payload)))
            self.store.notify(db, "outbox")

    def release_held(self) -> None:
        """Rows held for a refusal may be tried now."""
        with self.store.connect() as db:
            held = (out_.status == "pending", out_.error.like("held:%"))
            if db.execute(update(alert_outbox).where(*held).values(not_before=0)).rowcount:
                self.store.notify(db, "outbox")

    def backlog(self, held: bool = True) -> int:
        """Rows waiting to be sent; `held=False` leaves out the channels whose head is held."""
        stmt = select(func.count()).where(out_.status.in_(UNSENT))
        if not held:
            holding = select(out_.channel).where(
                out_.status == "pending", out_.error.like("held:%")
            )
            stmt = stmt.where(out_.channel.not_in(holding))
        return int(self._first(stmt)[0])

    # --- snoozes ---------------------------------------------------------------------

    def snooze(self, node: str, process: str) -> Snooze | None:
        """The process's snooze in force, if any."""
        c = alert_snoozes.c
        stmt = select(alert_snoozes).where(
            c.node == node, c.process == process, c.until > time.time()
        )
        found = self._all(stmt)
        return rows.snooze(found[0]) if found else None

    def snoozes(self) -> list[Snooze]:
        """Every snooze in force, the soonest to end first."""
        c = alert_snoozes.c
        stmt = select(alert_snoozes).where(c.until > time.time()).order_by(c.until)
        return [rows.snooze(r) for r in self._all(stmt)]

    # --- small records in kv ---------------------------------------------------------

    def _get(self, key: str) -> str | None:
        """(Inside a block of this thread, read in that block.)"""
        found = self._first(select(kv.c.value).where(kv.c.key == key))
        return None if found is None else str(found[0])

    def _put(self, db: Connection, key: str, value: str) -> None:
        db.execute(upsert(db, kv, {"key": key, "value": value, "updated": time.time()}, ["key"]))

    def log_position(self, node: str) -> int | None:
        """Where reading supervisord's log of `node` continues (None: never read)."""
        value = self._get(POSITION_KEY + node)
        return int(value) if value is not None and value.isdigit() else None

    def save_log_position(self, node: str, position: int) -> None:
        with self.store.connect() as db:
            self._put(db, POSITION_KEY + node, str(position))

    def forget_log_position(self, node: str) -> None:
        self._run(delete(kv).where(kv.c.key == POSITION_KEY + node))

    def digest_last(self) -> float | None:
        """When the last digest was due (None before the first start)."""
        value = self._get(DIGEST_KEY)
        return None if value is None else float(value)

    def claim_digest(self, expected: float | None, now: float) -> bool:
        """Move the last digest time from `expected` to `now`; False when another process
        moved it first."""
        with self.store.transaction() as db:
            value = self._get(DIGEST_KEY)
            if (None if value is None else float(value)) != expected:
                return False
            self._put(db, DIGEST_KEY, repr(now))
        return True

    # --- retention -------------------------------------------------------------------

    def prune(self, cutoff: float, events_cutoff: float) -> None:
        """Forget delivered rows, closed incidents and roll-ups older than `cutoff`, and
        handled events older than `events_cutoff`."""
        with self.store.transaction() as db:
            done = out_.status.in_(("sent", "failed"))
            db.execute(delete(alert_outbox).where(done, out_.created < cutoff))
            db.execute(delete(alert_incidents).where(inc_.status != "open", inc_.last < cutoff))
            db.execute(delete(alert_events).where(ev_.processed == 1, ev_.at < events_cutoff))
            db.execute(delete(alert_rollups).where(alert_rollups.c.last < cutoff))
