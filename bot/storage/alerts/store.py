"""AlertStore: the alerts' state in the shared database — events, incidents, the outbox,
snoozes, and the small per-node and digest records kept in `kv`.

The queries are in `queries` and `tx`, imported at the first use (SQLAlchemy with them): the
features hold an AlertStore from start-up, and `supbot status` must not pay for the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

from bot.alerts.records import EventRecord, Incident, ProcessEvent, Rollup, Snooze
from bot.state import Store

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from bot.storage.alerts.tx import AlertTx

LOST_KEY = "alerts.lost."
POSITION_KEY = "alerts.logpos."
DIGEST_KEY = "alerts.digest.last"
LOG_EDIT = "incident_log"  # outbox kind: read an incident's log tail, edit it into its message


class AlertStore:
    """Methods take and return records; each runs in its own transaction unless it says so."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @contextmanager
    def transaction(self) -> Iterator[AlertTx]:
        """One write transaction (serialized against every other: read-then-write is atomic)."""
        with self.store.transaction() as db:
            yield self.within(db)

    @contextmanager
    def claiming(self) -> Iterator[AlertTx]:
        """Where outbox heads are claimed. PostgreSQL: a plain transaction in which heads are
        row-locked (FOR UPDATE SKIP LOCKED), so claimers on every host work at once on other
        channels. SQLite: a write transaction (the file has one writer at a time anyway)."""
        with self._rows() as db:
            yield self.within(db)

    def _rows(self) -> AbstractContextManager[Connection]:
        """A block for writes to rows this process owns (a claimed row): no need to wait for
        every other writer on PostgreSQL; SQLite as before."""
        return self.store.connect() if self.store.postgresql else self.store.transaction()

    def within(self, db: Connection) -> AlertTx:
        """The alerts' operations inside a transaction another feature holds (an audit-feed
        cursor, a job notification flag), so both change together."""
        from bot.storage.alerts.tx import AlertTx

        return AlertTx(db, self.store)

    # --- events ----------------------------------------------------------------------

    def record_event(self, event: ProcessEvent) -> bool:
        """Insert one event (ignored when its key is known); True when a row was written."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            written: bool = q.record_event(db, event)
            if written:
                self.store.notify(db, "events")
        return written

    def has_pending_events(self) -> bool:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            return bool(q.has_pending_events(db))

    def pending_events(self) -> int:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            return int(q.pending_events(db))

    def counted_events(self, since: float, until: float) -> list[EventRecord]:
        """Handled crashes and starts that stopped in [since, until], oldest first."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            return list(q.counted_events(db, since, until))

    def mark_expected(self, node: str, process: str, since: float, until: float) -> None:
        """Exits of the process in [since, until] are requested stops, not crashes."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            q.mark_expected(db, node, process, since, until)

    def close_expected(self, node: str, process: str, until: float, forget_before: float) -> None:
        """End the process's open marks at `until`; drop marks that ended before
        `forget_before`."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            q.close_expected(db, node, process, until, forget_before)

    def add_lost(self, node: str, count: int) -> None:
        """Events supervisord discarded before the listener saw them (a counter per node)."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            q.add(db, LOST_KEY + node, count)

    def lost(self, node: str) -> int:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            value = q.get(db, LOST_KEY + node)
        return int(value) if value is not None else 0

    # --- incidents -------------------------------------------------------------------

    def incident(self, incident_id: int) -> Incident:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            found: Incident | None = q.incident(db, incident_id)
        assert found is not None, f"incident {incident_id} is gone"  # pruned only when closed
        return found

    def rollup(self, rollup_id: int) -> Rollup:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            found: Rollup | None = q.rollup(db, rollup_id)
        assert found is not None, f"roll-up {rollup_id} is gone"
        return found

    def rollup_incidents(self, rollup_id: int) -> list[Incident]:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            return list(q.rollup_incidents(db, rollup_id))

    def open_incidents(self) -> list[Incident]:
        """Every open incident that was shown (not hidden by a snooze), oldest first."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            return list(q.open_incidents(db))

    def save_log(self, incident_id: int, lines: list[str], exitstatus: int | None) -> None:
        """The log tail shown in the incident's first message (and the exit status, if the
        event did not carry it)."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            q.save_log(db, incident_id, lines, exitstatus)

    def has_open_incident(self, node: str, process: str) -> bool:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            return bool(q.has_open_incident(db, node, process))

    def open_incident_processes(self, node: str) -> set[str]:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            return set(q.open_incident_processes(db, node))

    # --- outbox ----------------------------------------------------------------------

    def has_unsent(self) -> bool:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            return bool(q.has_unsent(db))

    def posted(self, kind: str, ref: int, ts: str, row_id: int, log_edit: bool = False) -> None:
        """The first message of an incident or roll-up is out: keep its ts and mark the row
        sent together, so a restart never posts it twice; with `log_edit`, queue the edit
        that brings its log tail in the same transaction, so it is never lost."""
        with self._rows() as db:
            tx = self.within(db)
            tx.set_ts(kind, ref, ts)
            tx.sent(row_id)
            if log_edit:
                inc = tx.incident(ref)
                assert inc is not None  # its ts was just set
                tx.enqueue(inc.channel, LOG_EDIT, ref, {"first": True})

    def sent(self, row_id: int) -> None:
        with self._rows() as db:
            self.within(db).sent(row_id)

    def retry(self, row_id: int, delay: float, error: str, count: bool = True) -> None:
        """Back to pending, not before `delay` seconds; the channel waits behind it."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            q.retry(db, row_id, self.store.now(db) + delay, error, count)

    def rate_limited(self, channel: str, retry_after: float) -> None:
        """Nothing more to this channel before `retry_after` seconds."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            now = self.store.now(db)
            q.rate_limited(db, channel, now, now + retry_after)

    def fail(self, row_id: int, error: str) -> None:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            q.fail(db, row_id, error)

    def resend_plain(self, row_id: int, payload: dict[str, Any]) -> None:
        """Send the row again with `payload` (its blocks were refused: text only)."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            q.resend_plain(db, row_id, payload)
            self.store.notify(db, "outbox")

    def release_held(self) -> None:
        """Rows held for a refusal may be tried now."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            if q.release_held(db):
                self.store.notify(db, "outbox")

    def backlog(self, held: bool = True) -> int:
        """Rows waiting to be sent; `held=False` leaves out the channels whose head is held."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            return int(q.backlog(db, held))

    # --- snoozes ---------------------------------------------------------------------

    def snooze(self, node: str, process: str) -> Snooze | None:
        """The process's snooze in force, if any."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            found: Snooze | None = q.snooze(db, node, process)
        return found

    def snoozes(self) -> list[Snooze]:
        """Every snooze in force, the soonest to end first."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            return list(q.snoozes(db))

    # --- small records in kv ---------------------------------------------------------

    def log_position(self, node: str) -> int | None:
        """Where reading supervisord's log of `node` continues (None: never read)."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            value = q.get(db, POSITION_KEY + node)
        return int(value) if value is not None and value.isdigit() else None

    def save_log_position(self, node: str, position: int) -> None:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            q.put(db, POSITION_KEY + node, str(position))

    def forget_log_position(self, node: str) -> None:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            q.forget(db, POSITION_KEY + node)

    def digest_last(self) -> float | None:
        """When the last digest was due (None before the first start)."""
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            value = q.get(db, DIGEST_KEY)
        return None if value is None else float(value)

    def save_digest(self, at: float) -> None:
        from bot.storage.alerts import queries as q

        with self.store.connect() as db:
            q.put(db, DIGEST_KEY, repr(at))

    def claim_digest(self, expected: float | None, now: float) -> bool:
        """Move the last digest time from `expected` to `now`; False when another process
        moved it first."""
        with self.store.transaction():  # the read and the write below join it
            if self.digest_last() != expected:
                return False
            self.save_digest(now)
        return True

    # --- retention -------------------------------------------------------------------

    def prune(self, cutoff: float, events_cutoff: float) -> None:
        """Forget delivered rows, closed incidents and roll-ups older than `cutoff`, and
        handled events older than `events_cutoff`."""
        from bot.storage.alerts import queries as q

        with self.store.transaction() as db:
            q.prune(db, cutoff, events_cutoff)
