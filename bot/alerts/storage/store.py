"""AlertStore: the alerts' state in the shared database — events, incidents, the outbox,
snoozes, and the small per-node and digest records kept in `kv`."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from bot.alerts.records import EventRecord, Incident, ProcessEvent, Rollup, Snooze
from bot.alerts.storage import rows, schema
from bot.alerts.storage.tx import AlertTx
from bot.state import Store

LOST_KEY = "alerts.lost."
POSITION_KEY = "alerts.logpos."
DIGEST_KEY = "alerts.digest.last"
# The digest counts these outcomes (not duplicates, expected stops or ignored events).
COUNTED = "outcome NOT IN ('duplicate', 'expected stop', 'ignored', '')"


class AlertStore:
    """Methods take and return records; each runs in its own transaction unless it says so."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def ensure(self) -> None:
        """Create the alerts tables (idempotent)."""
        schema.create(self.store)

    @contextmanager
    def transaction(self) -> Iterator[AlertTx]:
        """One write transaction (taken up front, so claims are atomic across processes)."""
        with self.store.transaction() as db:
            yield AlertTx(db)

    @staticmethod
    def within(db: sqlite3.Connection) -> AlertTx:
        """The alerts' operations inside a transaction another feature holds (an audit-feed
        cursor, a job notification flag), so both change together."""
        return AlertTx(db)

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        with self.store.connect() as db:
            row: sqlite3.Row | None = db.execute(sql, args).fetchone()
        return row

    def _run(self, sql: str, args: tuple[Any, ...] = ()) -> int:
        with self.store.connect() as db:
            return db.execute(sql, args).rowcount

    # --- events ----------------------------------------------------------------------

    def record_event(self, event: ProcessEvent) -> bool:
        """Insert one event (ignored when its key is known); True when a row was written."""
        now = time.time()
        return bool(
            self._run(
                "INSERT OR IGNORE INTO alert_events(key, at, node, process, state, from_state, "
                "pid, stop, exitstatus, tries, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (
                    event.key,
                    now,
                    event.node,
                    event.process,
                    event.state,
                    event.from_state,
                    event.pid,
                    event.stop or now,
                    event.exitstatus,
                    event.tries,
                    event.source,
                ),
            )
        )

    def has_pending_events(self) -> bool:
        return self._one("SELECT 1 FROM alert_events WHERE processed=0 LIMIT 1") is not None

    def pending_events(self) -> int:
        row = self._one("SELECT COUNT(*) FROM alert_events WHERE processed=0")
        return int(row[0]) if row else 0

    def counted_events(self, since: float, until: float) -> list[EventRecord]:
        """Handled crashes and starts that stopped in [since, until], oldest first."""
        with self.store.connect() as db:
            found = db.execute(
                f"SELECT * FROM alert_events WHERE processed=1 AND stop BETWEEN ? AND ? AND ("
                f"state='RUNNING' OR (state IN ('EXITED','BACKOFF') AND {COUNTED})) ORDER BY stop",
                (since, until),
            ).fetchall()
        return [rows.event(r) for r in found]

    def mark_expected(self, node: str, process: str, since: float, until: float) -> None:
        """Exits of the process in [since, until] are requested stops, not crashes."""
        self._run(
            "INSERT INTO alert_expected(node, process, since, until) VALUES (?,?,?,?)",
            (node, process, since, until),
        )

    def close_expected(self, node: str, process: str, until: float, forget_before: float) -> None:
        """End the process's open marks at `until`; drop marks that ended before
        `forget_before`."""
        with self.store.connect() as db:
            db.execute(
                "UPDATE alert_expected SET until=? WHERE node=? AND process=? AND until>?",
                (until, node, process, until),
            )
            db.execute("DELETE FROM alert_expected WHERE until < ?", (forget_before,))

    def add_lost(self, node: str, count: int) -> None:
        """Events supervisord discarded before the listener saw them (a counter per node)."""
        self._run(
            "INSERT INTO kv(key, value, updated) VALUES (?,?,?) ON CONFLICT(key) DO UPDATE SET "
            "value=CAST(CAST(kv.value AS INTEGER) + ? AS TEXT), updated=excluded.updated",
            (LOST_KEY + node, str(count), time.time(), count),
        )

    def lost(self, node: str) -> int:
        row = self._one("SELECT value FROM kv WHERE key=?", (LOST_KEY + node,))
        return int(row[0]) if row else 0

    # --- incidents -------------------------------------------------------------------

    def incident(self, incident_id: int) -> Incident:
        row = self._one("SELECT * FROM alert_incidents WHERE id=?", (incident_id,))
        assert row is not None, f"incident {incident_id} is gone"  # pruned only when closed
        return rows.incident(row)

    def rollup(self, rollup_id: int) -> Rollup:
        row = self._one("SELECT * FROM alert_rollups WHERE id=?", (rollup_id,))
        assert row is not None, f"roll-up {rollup_id} is gone"
        return rows.rollup(row)

    def rollup_incidents(self, rollup_id: int) -> list[Incident]:
        with self.store.connect() as db:
            found = db.execute(
                "SELECT * FROM alert_incidents WHERE rollup=? ORDER BY id", (rollup_id,)
            ).fetchall()
        return [rows.incident(r) for r in found]

    def open_incidents(self) -> list[Incident]:
        """Every open incident that was shown (not hidden by a snooze), oldest first."""
        with self.store.connect() as db:
            found = db.execute(
                "SELECT * FROM alert_incidents WHERE status='open' AND snoozed=0 ORDER BY id"
            ).fetchall()
        return [rows.incident(r) for r in found]

    def save_log(self, incident_id: int, lines: list[str], exitstatus: int | None) -> None:
        """The log tail shown in the incident's first message (and the exit status, if the
        event did not carry it)."""
        self._run(
            "UPDATE alert_incidents SET log=?, exitstatus=COALESCE(exitstatus, ?) WHERE id=?",
            (json.dumps(lines), exitstatus, incident_id),
        )

    def has_open_incident(self, node: str, process: str) -> bool:
        sql = "SELECT 1 FROM alert_incidents WHERE node=? AND process=? AND status='open'"
        return self._one(sql, (node, process)) is not None

    def open_incident_processes(self, node: str) -> set[str]:
        with self.store.connect() as db:
            found = db.execute(
                "SELECT process FROM alert_incidents WHERE node=? AND status='open'", (node,)
            ).fetchall()
        return {r[0] for r in found}

    # --- outbox ----------------------------------------------------------------------

    def has_unsent(self) -> bool:
        sql = "SELECT 1 FROM alert_outbox WHERE status IN ('pending','claimed') LIMIT 1"
        return self._one(sql) is not None

    def posted(self, kind: str, ref: int, ts: str, row_id: int) -> None:
        """The first message of an incident or roll-up is out: keep its ts and mark the row
        sent together, so a restart never posts it twice."""
        with self.transaction() as tx:
            tx.set_ts(kind, ref, ts)
            tx.sent(row_id)

    def sent(self, row_id: int) -> None:
        with self.transaction() as tx:
            tx.sent(row_id)

    def retry(self, row_id: int, delay: float, error: str, count: bool = True) -> None:
        """Back to pending, not before `delay` seconds; the channel waits behind it."""
        self._run(
            "UPDATE alert_outbox SET status='pending', claimed_by=NULL, claimed_at=NULL, "
            "not_before=?, attempts=attempts+?, error=? WHERE id=?",
            (time.time() + delay, 1 if count else 0, error[:500], row_id),
        )

    def rate_limited(self, channel: str, retry_after: float) -> None:
        """Nothing more to this channel before `retry_after` seconds."""
        now = time.time()
        self._run(
            "INSERT INTO alert_pace(channel, tokens, updated, not_before) VALUES (?,0,?,?) "
            "ON CONFLICT(channel) DO UPDATE SET tokens=0, updated=excluded.updated, "
            "not_before=excluded.not_before",
            (channel, now, now + retry_after),
        )

    def fail(self, row_id: int, error: str) -> None:
        self._run(
            "UPDATE alert_outbox SET status='failed', error=? WHERE id=?", (error[:500], row_id)
        )

    def resend_plain(self, row_id: int, payload: dict[str, Any]) -> None:
        """Send the row again with `payload` (its blocks were refused: text only)."""
        self._run(
            "UPDATE alert_outbox SET status='pending', payload=? WHERE id=?",
            (json.dumps(payload), row_id),
        )

    def release_held(self) -> None:
        """Rows held for a refusal may be tried now."""
        self._run(
            "UPDATE alert_outbox SET not_before=0 WHERE status='pending' AND error LIKE 'held:%'"
        )

    def backlog(self, held: bool = True) -> int:
        """Rows waiting to be sent; `held=False` leaves out the channels whose head is held."""
        sql = "SELECT COUNT(*) FROM alert_outbox WHERE status IN ('pending','claimed')"
        if not held:
            sql += (
                " AND channel NOT IN (SELECT channel FROM alert_outbox WHERE status='pending' "
                "AND error LIKE 'held:%')"
            )
        row = self._one(sql)
        return int(row[0]) if row else 0

    # --- snoozes ---------------------------------------------------------------------

    def snooze(self, node: str, process: str) -> Snooze | None:
        """The process's snooze in force, if any."""
        row = self._one(
            "SELECT * FROM alert_snoozes WHERE node=? AND process=? AND until>?",
            (node, process, time.time()),
        )
        return None if row is None else rows.snooze(row)

    def snoozes(self) -> list[Snooze]:
        """Every snooze in force, the soonest to end first."""
        with self.store.connect() as db:
            found = db.execute(
                "SELECT * FROM alert_snoozes WHERE until>? ORDER BY until", (time.time(),)
            ).fetchall()
        return [rows.snooze(r) for r in found]

    # --- small records in kv ---------------------------------------------------------

    def _get(self, key: str) -> str | None:
        row = self._one("SELECT value FROM kv WHERE key=?", (key,))
        return None if row is None else str(row[0])

    def _put(self, db: sqlite3.Connection, key: str, value: str) -> None:
        db.execute(
            "INSERT INTO kv(key, value, updated) VALUES (?,?,?) ON CONFLICT(key) DO UPDATE SET "
            "value=excluded.value, updated=excluded.updated",
            (key, value, time.time()),
        )

    def log_position(self, node: str) -> int | None:
        """Where reading supervisord's log of `node` continues (None: never read)."""
        value = self._get(POSITION_KEY + node)
        return int(value) if value is not None and value.isdigit() else None

    def save_log_position(self, node: str, position: int) -> None:
        with self.store.connect() as db:
            self._put(db, POSITION_KEY + node, str(position))

    def forget_log_position(self, node: str) -> None:
        self._run("DELETE FROM kv WHERE key=?", (POSITION_KEY + node,))

    def digest_last(self) -> float | None:
        """When the last digest was due (None before the first start)."""
        value = self._get(DIGEST_KEY)
        return None if value is None else float(value)

    def claim_digest(self, expected: float | None, now: float) -> bool:
        """Move the last digest time from `expected` to `now`; False when another process
        moved it first."""
        with self.store.transaction() as db:
            row = db.execute("SELECT value FROM kv WHERE key=?", (DIGEST_KEY,)).fetchone()
            if (float(row[0]) if row else None) != expected:
                return False
            self._put(db, DIGEST_KEY, repr(now))
        return True

    # --- retention -------------------------------------------------------------------

    def prune(self, cutoff: float, events_cutoff: float) -> None:
        """Forget delivered rows, closed incidents and roll-ups older than `cutoff`, and
        handled events older than `events_cutoff`."""
        with self.store.transaction() as db:
            db.execute(
                "DELETE FROM alert_outbox WHERE status IN ('sent','failed') AND created<?",
                (cutoff,),
            )
            db.execute("DELETE FROM alert_incidents WHERE status<>'open' AND last<?", (cutoff,))
            db.execute("DELETE FROM alert_events WHERE processed=1 AND at<?", (events_cutoff,))
            db.execute("DELETE FROM alert_rollups WHERE last<?", (cutoff,))
