"""Incidents, not messages: events in, incident rows and outbox rows out.

One incident per process trouble. Repeats bump its counter (and go into its thread); BACKOFF
retries only change the row, so retries ending in FATAL are one edit; RUNNING recovers it; a
crash within REOPEN of a recovery reopens the same incident (flapping). Beyond the channel's
budget new incidents join a storm roll-up instead of getting a message each.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import time
from collections.abc import Callable

from bot.alerts import events, outbox, snooze
from bot.state import Store

log = logging.getLogger("supbot.alerts")

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL DEFAULT 'process',
    node TEXT NOT NULL,
    process TEXT NOT NULL,
    channel TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open',
    opened REAL NOT NULL,
    last REAL NOT NULL,
    closed REAL,
    crashes INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL,
    from_state TEXT NOT NULL DEFAULT '',
    exitstatus INTEGER,
    pid INTEGER NOT NULL DEFAULT 0,
    tries INTEGER NOT NULL DEFAULT 0,
    recovered_pid INTEGER NOT NULL DEFAULT 0,
    rollup INTEGER,
    snoozed INTEGER NOT NULL DEFAULT 0,
    ts TEXT,
    log TEXT
);
CREATE INDEX IF NOT EXISTS alert_incidents_proc ON alert_incidents(node, process, id);
CREATE INDEX IF NOT EXISTS alert_incidents_channel ON alert_incidents(channel, opened);
CREATE TABLE IF NOT EXISTS alert_rollups (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    opened REAL NOT NULL,
    last REAL NOT NULL,
    ts TEXT
)
"""

REOPEN = 600.0  # a crash this soon after a recovery continues the incident (flapping)
DEDUP_WINDOW = 3.0  # listener and watcher stop times of one exit differ by up to ~2 s
STORM_WINDOW = 60.0
STORM_THRESHOLD = 5  # own messages per channel per STORM_WINDOW; beyond: the roll-up
FLAPPING = 3  # crashes in one incident that make it "flapping"

Router = Callable[[str, str], str | None]


def ensure(store: Store) -> None:
    events.ensure(store)
    store.ensure(SCHEMA)
    store.ensure(outbox.SCHEMA)
    snooze.ensure(store)


class IncidentEngine:
    """Turns recorded events into incidents and outbox rows, exactly once (each batch is one
    write transaction, so two processes never handle the same event)."""

    def __init__(self, store: Store, route: Router) -> None:
        self.store, self.route = store, route
        ensure(store)

    def process_pending(self, limit: int = 500) -> int:
        with self.store.transaction() as db:
            rows = db.execute(
                "SELECT * FROM alert_events WHERE processed=0 ORDER BY id LIMIT ?", (limit,)
            ).fetchall()
            for row in rows:
                outcome = self._apply(db, row)
                db.execute(
                    "UPDATE alert_events SET processed=1, outcome=? WHERE id=?",
                    (outcome, row["id"]),
                )
        return len(rows)

    # --- one event ---------------------------------------------------------------------

    def _apply(self, db: sqlite3.Connection, ev: sqlite3.Row) -> str:
        state = ev["state"]
        if state in events.CRASH_STATES:
            if self._duplicate(db, ev):
                return "duplicate"
            if state == "EXITED" and self._expected(db, ev):
                return "expected stop"
            return self._crash(db, ev)
        if state in ("RUNNING", "NODE_UP", "LISTENER_BACK"):
            return self._close(db, ev, "recovered")
        if state == "STOPPED":
            return self._close(db, ev, "stopped")
        if state in ("NODE_DOWN", "LISTENER_SILENT"):
            if self._current(db, ev["node"], ev["process"], open_only=True):
                return "already open"
            return self._crash(db, ev)
        return "ignored"

    def _duplicate(self, db: sqlite3.Connection, ev: sqlite3.Row) -> bool:
        """The same exit seen by the other detector (or delivered twice)."""
        base = (
            "SELECT 1 FROM alert_events WHERE processed=1 AND node=? AND process=? "
            "AND outcome NOT IN ('', 'ignored') AND at > ? "
        )
        args: tuple[object, ...] = (ev["node"], ev["process"], ev["at"] - 3600)
        if (
            ev["pid"]
            and db.execute(
                base + "AND pid=? AND state IN ('EXITED','BACKOFF')", args + (ev["pid"],)
            ).fetchone()
        ):
            return True
        if ev["state"] == "FATAL":
            inc = self._current(db, ev["node"], ev["process"], open_only=True)
            return bool(inc and inc["state"] == "FATAL")
        near = base + "AND state=? AND source<>? AND (pid=0 OR ?=0) AND stop BETWEEN ? AND ?"
        window = (ev["stop"] - DEDUP_WINDOW, ev["stop"] + DEDUP_WINDOW)
        return bool(
            db.execute(near, args + (ev["state"], ev["source"], ev["pid"], *window)).fetchone()
        )

    def _expected(self, db: sqlite3.Connection, ev: sqlite3.Row) -> bool:
        return bool(
            db.execute(
                "SELECT 1 FROM alert_expected WHERE node=? AND process=? AND ? BETWEEN since AND until",
                (ev["node"], ev["process"], ev["stop"]),
            ).fetchone()
        )

    def _current(
        self, db: sqlite3.Connection, node: str, process: str, open_only: bool = False
    ) -> sqlite3.Row | None:
        row: sqlite3.Row | None = db.execute(
            "SELECT * FROM alert_incidents WHERE node=? AND process=? ORDER BY id DESC LIMIT 1",
            (node, process),
        ).fetchone()
        if row is None:
            return None
        if row["status"] == "open":
            return row
        if open_only or time.time() - (row["closed"] or 0) > REOPEN:
            return None
        return row

    def _crash(self, db: sqlite3.Connection, ev: sqlite3.Row) -> str:
        node, process, state = ev["node"], ev["process"], ev["state"]
        counts = 1 if state in ("EXITED", "BACKOFF") else 0
        snoozed = snooze.active(db, node, process)
        if snoozed:
            snooze.count_suppressed(db, node, process, counts or 1)
        inc = self._current(db, node, process)
        if inc is None:
            channel = self.route(node, process)
            if channel is None:
                return "no channel"
            kind = {"NODE_DOWN": "node", "LISTENER_SILENT": "listener"}.get(state, "process")
            cur = db.execute(
                "INSERT INTO alert_incidents(kind, node, process, channel, opened, last, crashes, "
                "state, from_state, exitstatus, pid, tries, snoozed) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    kind,
                    node,
                    process,
                    channel,
                    ev["stop"],
                    ev["stop"],
                    max(counts, 1),
                    state,
                    ev["from_state"],
                    ev["exitstatus"],
                    ev["pid"],
                    ev["tries"],
                    int(snoozed),
                ),
            )
            incident = int(cur.lastrowid or 0)
            if snoozed:
                return "snoozed"
            rollup = self._storm_rollup(db, channel, incident)
            if rollup:
                outbox.enqueue(db, channel, "rollup", rollup)
                return "rolled up"
            outbox.enqueue(db, channel, "incident", incident)
            return "opened"
        reopened = inc["status"] != "open"
        db.execute(
            "UPDATE alert_incidents SET status='open', closed=NULL, last=?, crashes=crashes+?, "
            "state=?, from_state=?, exitstatus=COALESCE(?, exitstatus), pid=?, tries=? WHERE id=?",
            (
                ev["stop"],
                counts,
                state,
                ev["from_state"],
                ev["exitstatus"],
                ev["pid"] or inc["pid"],
                ev["tries"],
                inc["id"],
            ),
        )
        if snoozed:
            return "snoozed"
        if inc["snoozed"]:
            # opened while snoozed, so never shown: the first crash after the snooze posts it
            db.execute("UPDATE alert_incidents SET snoozed=0 WHERE id=?", (inc["id"],))
            outbox.enqueue(db, inc["channel"], "incident", inc["id"])
            return "opened"
        if inc["rollup"]:
            outbox.enqueue(db, inc["channel"], "rollup", inc["rollup"])
            return "rolled up"
        if state == "BACKOFF" and not reopened:
            return "counted"  # retries: the FATAL or RUNNING that ends them is the one edit
        outbox.enqueue(db, inc["channel"], "incident", inc["id"])
        if state == "EXITED" or reopened:
            self._thread_reply(db, inc, ev)
        return "repeat"

    def _thread_reply(self, db: sqlite3.Connection, inc: sqlite3.Row, ev: sqlite3.Row) -> None:
        """One reply per repeat; repeats while a reply waits to be sent join that reply."""
        waiting = outbox.pending_thread(db, inc["id"])
        if waiting is not None:
            payload = json.loads(waiting["payload"])
            payload["count"] = payload.get("count", 1) + 1
            payload.update(last=ev["stop"], exitstatus=ev["exitstatus"], state=ev["state"])
            outbox.update_payload(db, waiting["id"], payload)
            return
        outbox.enqueue(
            db,
            inc["channel"],
            "thread",
            inc["id"],
            {
                "count": 1,
                "first": ev["stop"],
                "last": ev["stop"],
                "exitstatus": ev["exitstatus"],
                "state": ev["state"],
                "pid": ev["pid"],
            },
        )

    def _storm_rollup(self, db: sqlite3.Connection, channel: str, incident: int) -> int | None:
        """Past the budget, attach the incident to the channel's current roll-up."""
        since = time.time() - STORM_WINDOW
        own = db.execute(
            "SELECT COUNT(*) FROM alert_incidents WHERE channel=? AND opened>? AND rollup IS NULL "
            "AND snoozed=0 AND id<>?",
            (channel, since, incident),
        ).fetchone()[0]
        if own < STORM_THRESHOLD:
            return None
        row = db.execute(
            "SELECT id FROM alert_rollups WHERE channel=? AND last>? ORDER BY id DESC LIMIT 1",
            (channel, since),
        ).fetchone()
        now = time.time()
        if row is None:
            rollup = int(
                db.execute(
                    "INSERT INTO alert_rollups(channel, opened, last) VALUES (?,?,?)",
                    (channel, now, now),
                ).lastrowid
                or 0
            )
        else:
            rollup = int(row["id"])
            db.execute("UPDATE alert_rollups SET last=? WHERE id=?", (now, rollup))
        db.execute("UPDATE alert_incidents SET rollup=? WHERE id=?", (rollup, incident))
        return rollup

    def _close(self, db: sqlite3.Connection, ev: sqlite3.Row, status: str) -> str:
        inc = self._current(db, ev["node"], ev["process"], open_only=True)
        if inc is None:
            return "ignored"
        db.execute(
            "UPDATE alert_incidents SET status=?, closed=?, recovered_pid=? WHERE id=?",
            (status, ev["stop"], ev["pid"], inc["id"]),
        )
        if inc["snoozed"]:
            return status
        if inc["rollup"]:
            outbox.enqueue(db, inc["channel"], "rollup", inc["rollup"])
        else:
            outbox.enqueue(db, inc["channel"], "incident", inc["id"])
        return status
