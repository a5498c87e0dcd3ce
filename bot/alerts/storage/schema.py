"""The alerts tables. Every process creates them (idempotent), so any may start first."""

from __future__ import annotations

import sqlite3

from bot.state import Store

EVENTS = """
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

INCIDENTS = """
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

OUTBOX = """
CREATE TABLE IF NOT EXISTS alert_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref INTEGER NOT NULL DEFAULT 0,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending',
    claimed_by TEXT,
    claimed_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    sent REAL,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alert_outbox_open ON alert_outbox(status, channel, id);
CREATE INDEX IF NOT EXISTS alert_outbox_ref ON alert_outbox(kind, ref, status);
CREATE TABLE IF NOT EXISTS alert_pace (
    channel TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    updated REAL NOT NULL,
    not_before REAL NOT NULL DEFAULT 0
)
"""

SNOOZES = """
CREATE TABLE IF NOT EXISTS alert_snoozes (
    node TEXT NOT NULL,
    process TEXT NOT NULL,
    until REAL NOT NULL,
    by TEXT NOT NULL,
    created REAL NOT NULL,
    suppressed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node, process)
)
"""

ALL = (EVENTS, INCIDENTS, OUTBOX, SNOOZES)

# Columns added after the first release: ADD COLUMN only when missing, so databases written
# by an older supbot keep working (SQLite has no ADD COLUMN IF NOT EXISTS).
ADDED = {
    "alert_incidents": (
        ("acked_by", "TEXT"),
        ("acked_at", "REAL"),
        ("escalated", "INTEGER NOT NULL DEFAULT 0"),
        ("note", "TEXT NOT NULL DEFAULT ''"),
    ),
}


def create(store: Store) -> None:
    for schema in ALL:
        store.ensure(schema)
    with store.transaction() as db:
        add_columns(db)


def add_columns(db: sqlite3.Connection) -> None:
    for table, columns in ADDED.items():
        have = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for name, decl in columns:
            if name not in have:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {decl}")
