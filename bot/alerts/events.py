"""Process state events in the shared state: what the listener and the watcher record.

A crash is EXITED with expected=0, BACKOFF, FATAL, or (seen only by the watcher) a new pid whose
previous exit was unexpected. Both detectors write here; the incident engine de-duplicates on
(node, process, pid, stop time), so a node watched both ways never alerts twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.state import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL UNIQUE,
    at REAL NOT NULL,
    node TEXT NOT NULL,
    process TEXT NOT NULL,
    state TEXT NOT NULL,
    from_state TEXT NOT NULL DEFAULT '',
    pid INTEGER NOT NULL DEFAULT 0,
    stop REAL NOT NULL DEFAULT 0,
    exitstatus INTEGER,
    tries INTEGER NOT NULL DEFAULT 0,
    source TEXT NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    processed INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS alert_events_pending ON alert_events(processed, id);
CREATE INDEX IF NOT EXISTS alert_events_proc ON alert_events(node, process, at);
CREATE TABLE IF NOT EXISTS alert_expected (
    node TEXT NOT NULL,
    process TEXT NOT NULL,
    since REAL NOT NULL,
    until REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS alert_expected_proc ON alert_expected(node, process)
"""

CRASH_STATES = frozenset({"EXITED", "BACKOFF", "FATAL"})
# States the engine acts on; the rest (STARTING, STOPPING, UNKNOWN) are not recorded.
RECORDED = CRASH_STATES | {"RUNNING", "STOPPED"}
# Node-level events from the health checks.
NODE_STATES = frozenset({"NODE_DOWN", "NODE_UP", "LISTENER_SILENT", "LISTENER_BACK"})
# A supbot stop/restart can take this long before its audit entry closes the mark.
EXPECTED_OPEN = 600.0


@dataclass(frozen=True)
class ProcessEvent:
    """One observed transition. `stop` is supervisord's stop time when known (watcher), else
    the time the event was received (listener); `pid` is the pid that exited, 0 if unknown."""

    node: str
    process: str  # group:name
    state: str
    source: str  # listener | watcher | log | health
    from_state: str = ""
    pid: int = 0
    stop: float = 0.0
    exitstatus: int | None = None
    tries: int = 0
    expected: bool | None = None
    serial: str = ""

    @property
    def crash(self) -> bool:
        if self.state == "EXITED":
            return self.expected is False
        return self.state in ("BACKOFF", "FATAL")

    @property
    def key(self) -> str:
        if self.source == "log":  # a line of supervisord's log: its time is its identity
            return f"L|{self.node}|{self.process}|{self.state}|{self.stop:.3f}"
        if self.source == "watcher":
            return f"W|{self.node}|{self.process}|{self.state}|{self.pid}|{self.stop:.0f}"
        return f"{self.source[0].upper()}|{self.node}|{self.process}|{self.state}|{self.serial}|{time.time():.6f}"


def ensure(store: Store) -> None:
    store.ensure(SCHEMA)


def record(store: Store, event: ProcessEvent) -> bool:
    """Insert one event (ignored when its key is known). Only crash, RUNNING, STOPPED and node
    events are kept; returns True when a row was written."""
    if event.state not in RECORDED and event.state not in NODE_STATES:
        return False
    if event.state == "EXITED" and not event.crash:
        return False
    with store.connect() as db:
        cur = db.execute(
            "INSERT OR IGNORE INTO alert_events(key, at, node, process, state, from_state, pid, "
            "stop, exitstatus, tries, source) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            (
                event.key,
                time.time(),
                event.node,
                event.process,
                event.state,
                event.from_state,
                event.pid,
                event.stop or time.time(),
                event.exitstatus,
                event.tries,
                event.source,
            ),
        )
    return cur.rowcount > 0


def pending_count(store: Store) -> int:
    with store.connect() as db:
        row = db.execute("SELECT COUNT(*) FROM alert_events WHERE processed=0").fetchone()
    return int(row[0])


def mark_expected(store: Store, node: str, process: str, seconds: float = EXPECTED_OPEN) -> None:
    """A stop/restart/signal requested through supbot: exits in this window are not crashes."""
    now = time.time()
    with store.connect() as db:
        db.execute(
            "INSERT INTO alert_expected(node, process, since, until) VALUES (?,?,?,?)",
            (node, process, now - 1, now + seconds),
        )


def close_expected(store: Store, node: str, process: str, grace: float = 5.0) -> None:
    """The action finished: keep the mark a little longer for events still in flight."""
    now = time.time()
    with store.connect() as db:
        db.execute(
            "UPDATE alert_expected SET until=? WHERE node=? AND process=? AND until>?",
            (now + grace, node, process, now + grace),
        )
        db.execute("DELETE FROM alert_expected WHERE until < ?", (now - 3600,))


LOST_KEY = "alerts.lost."


def add_lost(store: Store, node: str, count: int) -> None:
    """Events supervisord discarded before the listener saw them (a counter per node)."""
    now = time.time()
    with store.connect() as db:
        db.execute(
            "INSERT INTO kv(key, value, updated) VALUES (?,?,?) ON CONFLICT(key) DO UPDATE SET "
            "value=CAST(CAST(kv.value AS INTEGER) + ? AS TEXT), updated=excluded.updated",
            (LOST_KEY + node, str(count), now, count),
        )


def lost(store: Store, node: str) -> int:
    with store.connect() as db:
        row = db.execute("SELECT value FROM kv WHERE key=?", (LOST_KEY + node,)).fetchone()
    return int(row[0]) if row else 0
