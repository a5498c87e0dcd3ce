"""What the alerts do inside one write transaction: handle a batch of events, claim outbox
heads, change a snooze together with the message that shows it."""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from bot.alerts.records import EventRecord, Incident, OutboxRow, Pace, Snooze
from bot.alerts.storage import rows

# Only the incident or roll-up message to sync: the message is rendered from the latest state.
SYNCED = ("incident", "rollup")
TS_TABLES = {"incident": "alert_incidents", "rollup": "alert_rollups"}


class AlertTx:
    """Operations on a connection inside a transaction (the caller commits or rolls back)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def _one(self, sql: str, args: tuple[Any, ...] = ()) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(sql, args).fetchone()
        return row

    # --- events ----------------------------------------------------------------------

    def pending_events(self, limit: int) -> list[EventRecord]:
        found = self.db.execute(
            "SELECT * FROM alert_events WHERE processed=0 ORDER BY id LIMIT ?", (limit,)
        ).fetchall()
        return [rows.event(r) for r in found]

    def mark_processed(self, event_id: int, outcome: str) -> None:
        self.db.execute(
            "UPDATE alert_events SET processed=1, outcome=? WHERE id=?", (outcome, event_id)
        )

    _HANDLED = (
        "SELECT 1 FROM alert_events WHERE processed=1 AND node=? AND process=? "
        "AND outcome NOT IN ('', 'ignored') AND at > ? "
    )

    def handled_exit(self, node: str, process: str, pid: int, since: float) -> bool:
        """An exit (or start failure) of this pid was already handled."""
        sql = self._HANDLED + "AND pid=? AND state IN ('EXITED','BACKOFF')"
        return self._one(sql, (node, process, since, pid)) is not None

    def handled_near(self, ev: EventRecord, since: float, start: float, end: float) -> bool:
        """The other detector's record of the same state change, stopped in [start, end]."""
        sql = self._HANDLED + (
            "AND state=? AND source<>? AND (pid=0 OR ?=0) AND stop BETWEEN ? AND ?"
        )
        args = (ev.node, ev.process, since, ev.state, ev.source, ev.pid, start, end)
        return self._one(sql, args) is not None

    def expected_at(self, node: str, process: str, at: float) -> bool:
        sql = (
            "SELECT 1 FROM alert_expected WHERE node=? AND process=? AND ? BETWEEN since AND until"
        )
        return self._one(sql, (node, process, at)) is not None

    # --- incidents -------------------------------------------------------------------

    def latest_incident(self, node: str, process: str) -> Incident | None:
        row = self._one(
            "SELECT * FROM alert_incidents WHERE node=? AND process=? ORDER BY id DESC LIMIT 1",
            (node, process),
        )
        return None if row is None else rows.incident(row)

    def open_incident(
        self, kind: str, channel: str, ev: EventRecord, crashes: int, snoozed: bool
    ) -> int:
        cur = self.db.execute(
            "INSERT INTO alert_incidents(kind, node, process, channel, opened, last, crashes, "
            "state, from_state, exitstatus, pid, tries, snoozed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                kind,
                ev.node,
                ev.process,
                channel,
                ev.stop,
                ev.stop,
                crashes,
                ev.state,
                ev.from_state,
                ev.exitstatus,
                ev.pid,
                ev.tries,
                int(snoozed),
            ),
        )
        return int(cur.lastrowid or 0)

    def repeat_incident(self, incident: Incident, ev: EventRecord, crashes: int) -> None:
        """Another crash: the incident is open (again) and shows the latest state."""
        self.db.execute(
            "UPDATE alert_incidents SET status='open', closed=NULL, last=?, crashes=crashes+?, "
            "state=?, from_state=?, exitstatus=COALESCE(?, exitstatus), pid=?, tries=? WHERE id=?",
            (
                ev.stop,
                crashes,
                ev.state,
                ev.from_state,
                ev.exitstatus,
                ev.pid or incident.pid,
                ev.tries,
                incident.id,
            ),
        )

    def unhide_incident(self, incident_id: int) -> None:
        self.db.execute("UPDATE alert_incidents SET snoozed=0 WHERE id=?", (incident_id,))

    def close_incident(self, incident_id: int, status: str, at: float, recovered_pid: int) -> None:
        self.db.execute(
            "UPDATE alert_incidents SET status=?, closed=?, recovered_pid=? WHERE id=?",
            (status, at, recovered_pid, incident_id),
        )

    def posted_open_incident(self, node: str, process: str) -> Incident | None:
        """The open incident of a process whose message is in the channel."""
        row = self._one(
            "SELECT * FROM alert_incidents WHERE node=? AND process=? AND status='open' "
            "AND ts IS NOT NULL ORDER BY id DESC LIMIT 1",
            (node, process),
        )
        return None if row is None else rows.incident(row)

    def incident(self, incident_id: int) -> Incident | None:
        row = self._one("SELECT * FROM alert_incidents WHERE id=?", (incident_id,))
        return None if row is None else rows.incident(row)

    def set_owner(self, incident_id: int, by: str | None, at: float | None) -> None:
        """Ack (`by` set) or unack (None)."""
        self.db.execute(
            "UPDATE alert_incidents SET acked_by=?, acked_at=? WHERE id=?", (by, at, incident_id)
        )

    def resolve_incident(self, incident_id: int, at: float, note: str) -> None:
        self.db.execute(
            "UPDATE alert_incidents SET status='resolved', closed=?, note=? WHERE id=?",
            (at, note, incident_id),
        )

    def to_escalate(self, opened_before: float, level: int) -> list[Incident]:
        """Open, posted, unacked incidents older than the level's delay, not escalated to it."""
        found = self.db.execute(
            "SELECT * FROM alert_incidents WHERE status='open' AND acked_by IS NULL "
            "AND ts IS NOT NULL AND snoozed=0 AND opened<=? AND escalated<? ORDER BY id",
            (opened_before, level),
        ).fetchall()
        return [rows.incident(r) for r in found]

    def mark_escalated(self, incident_id: int, level: int) -> None:
        self.db.execute(
            "UPDATE alert_incidents SET escalated=MAX(escalated, ?) WHERE id=?",
            (level, incident_id),
        )

    def set_ts(self, kind: str, ref: int, ts: str) -> None:
        """The posted message of an incident or roll-up (`kind`), for later edits."""
        self.db.execute(f"UPDATE {TS_TABLES[kind]} SET ts=? WHERE id=?", (ts, ref))

    # --- storm roll-ups --------------------------------------------------------------

    def own_messages(self, channel: str, since: float, other_than: int) -> int:
        """Incidents opened since `since` in the channel with a message of their own."""
        row = self._one(
            "SELECT COUNT(*) FROM alert_incidents WHERE channel=? AND opened>? AND rollup IS NULL "
            "AND snoozed=0 AND id<>?",
            (channel, since, other_than),
        )
        return int(row[0]) if row else 0

    def live_rollup(self, channel: str, since: float) -> int | None:
        row = self._one(
            "SELECT id FROM alert_rollups WHERE channel=? AND last>? ORDER BY id DESC LIMIT 1",
            (channel, since),
        )
        return None if row is None else int(row["id"])

    def new_rollup(self, channel: str, now: float) -> int:
        cur = self.db.execute(
            "INSERT INTO alert_rollups(channel, opened, last) VALUES (?,?,?)", (channel, now, now)
        )
        return int(cur.lastrowid or 0)

    def touch_rollup(self, rollup_id: int, now: float) -> None:
        self.db.execute("UPDATE alert_rollups SET last=? WHERE id=?", (now, rollup_id))

    def attach_rollup(self, incident_id: int, rollup_id: int) -> None:
        self.db.execute("UPDATE alert_incidents SET rollup=? WHERE id=?", (rollup_id, incident_id))

    # --- outbox ----------------------------------------------------------------------

    def enqueue(
        self, channel: str, kind: str, ref: int = 0, payload: dict[str, Any] | None = None
    ) -> int:
        """Add a row. A pending `incident`/`rollup` sync for the same ref already covers the
        change: the message is rendered from the latest state when it is sent."""
        if kind in SYNCED:
            row = self._one(
                "SELECT id FROM alert_outbox WHERE kind=? AND ref=? AND status='pending'",
                (kind, ref),
            )
            if row:
                return int(row["id"])
        cur = self.db.execute(
            "INSERT INTO alert_outbox(channel, kind, ref, payload, created) VALUES (?,?,?,?,?)",
            (channel, kind, ref, json.dumps(payload or {}), time.time()),
        )
        return int(cur.lastrowid or 0)

    def queued(self, kind: str, ref: int, channel: str) -> bool:
        """A row of this kind and ref was ever queued for the channel (sent or not)."""
        sql = "SELECT 1 FROM alert_outbox WHERE kind=? AND ref=? AND channel=?"
        return self._one(sql, (kind, ref, channel)) is not None

    def pending_thread(self, ref: int) -> OutboxRow | None:
        row = self._one(
            "SELECT * FROM alert_outbox WHERE kind='thread' AND ref=? AND status='pending'", (ref,)
        )
        return None if row is None else rows.outbox(row)

    def update_payload(self, row_id: int, payload: dict[str, Any]) -> None:
        self.db.execute(
            "UPDATE alert_outbox SET payload=? WHERE id=?", (json.dumps(payload), row_id)
        )

    def outbox_heads(self) -> list[OutboxRow]:
        """The oldest unsent row of every channel (rows of one channel go out in order)."""
        found = self.db.execute(
            "SELECT o.* FROM alert_outbox o JOIN (SELECT channel, MIN(id) AS id FROM "
            "alert_outbox WHERE status IN ('pending','claimed') GROUP BY channel) h "
            "ON o.id = h.id"
        ).fetchall()
        return [rows.outbox(r) for r in found]

    def claim(self, row_id: int, owner: str, now: float) -> None:
        self.db.execute(
            "UPDATE alert_outbox SET status='claimed', claimed_by=?, claimed_at=? WHERE id=?",
            (owner, now, row_id),
        )

    def sent(self, row_id: int) -> None:
        self.db.execute(
            "UPDATE alert_outbox SET status='sent', sent=?, error='' WHERE id=?",
            (time.time(), row_id),
        )

    def pace(self, channel: str) -> Pace | None:
        row = self._one("SELECT * FROM alert_pace WHERE channel=?", (channel,))
        return None if row is None else rows.pace(row)

    def spend_token(self, channel: str, tokens: float, now: float) -> None:
        """The bucket after taking one token: `tokens` left at `now`."""
        self.db.execute(
            "INSERT INTO alert_pace(channel, tokens, updated, not_before) VALUES (?,?,?,0) "
            "ON CONFLICT(channel) DO UPDATE SET tokens=excluded.tokens, updated=excluded.updated",
            (channel, tokens, now),
        )

    # --- snoozes ---------------------------------------------------------------------

    def snoozed(self, node: str, process: str) -> bool:
        sql = "SELECT 1 FROM alert_snoozes WHERE node=? AND process=? AND until>?"
        return self._one(sql, (node, process, time.time())) is not None

    def count_suppressed(self, node: str, process: str, n: int) -> None:
        self.db.execute(
            "UPDATE alert_snoozes SET suppressed=suppressed+? WHERE node=? AND process=?",
            (n, node, process),
        )

    def snooze_of(self, node: str, process: str) -> Snooze | None:
        """The snooze row of a process, in force or not."""
        row = self._one("SELECT * FROM alert_snoozes WHERE node=? AND process=?", (node, process))
        return None if row is None else rows.snooze(row)

    def put_snooze(self, node: str, process: str, until: float, by: str, now: float) -> None:
        """Snooze (again) until `until`; the suppressed count carries over while in force."""
        self.db.execute(
            "INSERT INTO alert_snoozes(node, process, until, by, created) VALUES (?,?,?,?,?) "
            "ON CONFLICT(node, process) DO UPDATE SET until=excluded.until, by=excluded.by, "
            "created=excluded.created, suppressed=CASE WHEN alert_snoozes.until>? "
            "THEN alert_snoozes.suppressed ELSE 0 END",
            (node, process, until, by, now, now),
        )

    def delete_snooze(self, node: str, process: str) -> None:
        self.db.execute("DELETE FROM alert_snoozes WHERE node=? AND process=?", (node, process))
