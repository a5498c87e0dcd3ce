"""The shared state: one SQLite database in `[storage] dir`, opened by every supbot process.

WAL mode lets readers and one writer work at once across processes; `busy_timeout` makes a
writer wait for another instead of failing. Each feature owns its tables and creates them with
`Store.ensure(...)` (idempotent), so any process can start first.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DB_NAME = "supbot.db"

_CORE_SCHEMA = """
CREATE TABLE IF NOT EXISTS heartbeats (
    name TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    seen REAL NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    updated REAL NOT NULL
);
"""


class Store:
    """A connection per thread to the shared database."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.path = self.directory / DB_NAME
        self._local = threading.local()
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
        self.ensure(_CORE_SCHEMA)

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA busy_timeout=30000")
            conn.execute("PRAGMA synchronous=NORMAL")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """The thread's connection (autocommit; use `transaction()` for several writes)."""
        yield self._connection()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT: takes the write lock up front, so claims are atomic."""
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def ensure(self, schema: str) -> None:
        with self.transaction() as db:
            for statement in schema.split(";"):
                if statement.strip():
                    db.execute(statement)

    def heartbeat(self, name: str, detail: str = "") -> None:
        with self.connect() as db:
            db.execute(
                "INSERT INTO heartbeats(name, pid, host, seen, detail) VALUES (?,?,?,?,?) "
                "ON CONFLICT(name) DO UPDATE SET pid=excluded.pid, host=excluded.host, "
                "seen=excluded.seen, detail=excluded.detail",
                (name, os.getpid(), os.uname().nodename, time.time(), detail),
            )

    def last_heartbeat(self, name: str) -> sqlite3.Row | None:
        with self.connect() as db:
            row: sqlite3.Row | None = db.execute(
                "SELECT * FROM heartbeats WHERE name=?", (name,)
            ).fetchone()
            return row

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
