"""The shared state: one SQLite database in `[storage] dir`, opened by every supbot process.

WAL mode lets readers and one writer work at once across processes; `busy_timeout` makes a
writer wait for another instead of failing. Each feature owns its tables and creates them with
`Store.ensure(...)` (idempotent), so any process can start first.

The file can go away or go bad under a running process. Every checkout of a connection
checks that the path still names the file it opened (one stat): a removed database is created
again with every table this process knows, said once in the log, instead of writing on into the
unlinked file. A file that is not a database, a full disk or a read-only file is
`StateUnavailable` with one line naming the path; `health()` says the same for /healthz.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote

from bot.errors import StateUnavailable
from bot.state_problems import classify

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

log = logging.getLogger("supbot.state")
Record = TypeVar("Record", bound="DataclassInstance")

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
        self.path = self.directory / DB_NAME
        self._local = threading.local()
        self._lock = threading.Lock()
        self._schemas: list[str] = []
        self._file: tuple[int, int] | None = None  # (st_dev, st_ino) of the database in use
        self._problem: tuple[str, str] | None = None  # (kind, line) of the last failed use
        self._ready = False
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            self._raise_if_condition(exc)
            raise
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
        self.ensure(_CORE_SCHEMA)
        self._ready = True

    # --- connections ---------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        try:
            return self._checkout()
        except OSError as exc:  # the directory itself: gone read-only, no permission
            self._raise_if_condition(exc)
            raise

    def _checkout(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            if conn.in_transaction or self._still(self._local.file):
                return conn
            # The file was removed or replaced. Closing is safe: SQLite sees the file moved
            # and neither checkpoints into it nor deletes the -wal/-shm by name.
            conn.close()
        conn, self._local.file = self._open()
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _still(self, file: tuple[int, int]) -> bool:
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return False
        return (st.st_dev, st.st_ino) == file

    def _open(self) -> tuple[sqlite3.Connection, tuple[int, int]]:
        with self._lock, self._directory_lock():
            missing = not self.path.exists()
            if missing:
                # Left behind by a removed database: a new file must not read its pages.
                for suffix in ("-wal", "-shm"):
                    with suppress(FileNotFoundError):
                        os.unlink(f"{self.path}{suffix}")
            conn = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            try:
                conn.row_factory = sqlite3.Row
                conn.execute("PRAGMA busy_timeout=30000")
                conn.execute("PRAGMA synchronous=NORMAL")
                st = os.stat(self.path)
                file = (st.st_dev, st.st_ino)
                # `missing` too: the removed file's inode number is free again once closed.
                if self._file is not None and (missing or file != self._file):
                    self._recreated(conn, missing)
                self._file = file
            except BaseException:
                conn.close()
                raise
        return conn, file

    def _recreated(self, conn: sqlite3.Connection, missing: bool) -> None:
        """A new file at the path (by us or another process): give it every table we know."""
        conn.execute("PRAGMA journal_mode=WAL")
        for schema in self._schemas:
            _create(conn, schema)
        what = "was removed" if missing else "was replaced"
        log.warning(
            "state database %s %s while supbot was running: using a new one from now on "
            "(history, audit and pending alerts recorded before are gone)",
            self.path,
            what,
        )

    @contextmanager
    def _directory_lock(self) -> Iterator[None]:
        """Across processes: only one creates a missing database and clears its -wal/-shm."""
        fd = os.open(self.directory, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """The thread's connection (autocommit; use `transaction()` for several writes)."""
        with self._guard():
            conn = self._connection()
            before = conn.total_changes
            yield conn
            self._succeeded(conn.total_changes > before)

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE … COMMIT: takes the write lock up front, so claims are atomic."""
        with self._guard():
            conn = self._connection()
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:  # SQLite may have rolled back already (disk full)
                    conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")
            self._succeeded(True)

    def ensure(self, schema: str) -> None:
        if schema not in self._schemas:
            self._schemas.append(schema)
        with self.transaction() as db:
            _create(db, schema)

    # --- health --------------------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """A condition of the database (full, not a database, read-only) → StateUnavailable;
        anything else (a bug) passes unchanged."""
        try:
            yield
        except sqlite3.Error as exc:
            self._raise_if_condition(exc)
            raise

    def _raise_if_condition(self, exc: BaseException) -> None:
        """StateUnavailable (logged once when it starts) for a condition of the database."""
        found = classify(self.path, exc)
        if found is None:
            return
        if self._ready and (self._problem is None or self._problem[0] != found[0]):
            log.error("%s", found[1])  # at start-up the error itself is the one line
        self._problem = found
        raise StateUnavailable(found[1]) from exc

    def _succeeded(self, wrote: bool) -> None:
        if wrote and self._problem is not None:
            log.info("state database %s is writable again", self.path)
            self._problem = None

    def health(self) -> str | None:
        """None when the state database answers and the last write worked; else why not.
        Read through a new connection: a long-lived one may answer from its page cache."""
        try:
            with self.connect():  # recreates a removed database
                pass
            probe = sqlite3.connect(f"file:{quote(str(self.path.resolve()))}?mode=ro", uri=True)
            try:
                probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
            finally:
                probe.close()
        except StateUnavailable as exc:
            return str(exc)
        except sqlite3.Error as exc:
            try:
                self._raise_if_condition(exc)
            except StateUnavailable as mapped:
                return str(mapped)
            return f"state database {self.path}: {exc}"
        return self._problem[1] if self._problem else None

    # --- small shared records ------------------------------------------------------------

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


def _create(db: sqlite3.Connection, schema: str) -> None:
    for statement in schema.split(";"):
        if statement.strip():
            db.execute(statement)


def from_row(kind: type[Record], row: sqlite3.Row, **decoded: Any) -> Record:
    """A `kind` from the columns named like its fields; `decoded` gives the fields whose
    column needs turning into the field's value (JSON, NULL → default)."""
    plain = {f.name: row[f.name] for f in fields(kind) if f.init and f.name not in decoded}
    return kind(**plain, **decoded)
