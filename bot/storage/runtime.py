"""The engine behind `Store`: SQLAlchemy Core on SQLite or PostgreSQL, one set of semantics.

- A block (`Store.connect()`) is one transaction, committed when the block ends.
- A write block (`Store.transaction()`) is serialized against every other write block of every
  process: SQLite's `BEGIN IMMEDIATE` takes the file's write lock; on PostgreSQL a
  transaction-level advisory lock does the same across hosts (released at commit). Code that
  reads then writes in a write block is therefore as safe on both engines; claims that must
  scale (the outbox) use `FOR UPDATE SKIP LOCKED` in plain blocks instead.
- SQLite: one connection per thread (WAL lets readers and one writer work at once), checked on
  every checkout against the file at the path: a removed or replaced database is created again
  with every table (bot/state.py says why). PostgreSQL: a pool, each checkout pinged.
- Times that decide between hosts (leases, expiries) come from `now()`: the database's clock.
"""

from __future__ import annotations

import fcntl
import logging
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import SingletonThreadPool
from sqlalchemy.schema import CreateIndex, CreateTable

from bot.state import DB_NAME, WROTE, Where
from bot.storage.tables import SCHEMA_VERSION, metadata

log = logging.getLogger("supbot.state")

# pg_advisory_xact_lock key of write blocks (the migration lock uses another).
WRITE_LOCK_KEY = 0x5375_7062_6F75
WRITE = "supbot_write"  # execution option: this block is a write block


class Backend:
    """An engine and what the Store needs of it."""

    def __init__(self, where: Where, on_new_file: Callable[[bool], None]) -> None:
        self.where = where
        self.postgresql = where.url is not None
        self.path = where.directory / DB_NAME
        self._on_new_file = on_new_file
        self._file: tuple[int, int] | None = None  # (st_dev, st_ino) of the file in use
        self._lock = threading.Lock()
        self.engine = self._postgresql() if self.postgresql else self._sqlite()
        event.listen(self.engine, "begin", self._begin)
        event.listen(self.engine, "after_cursor_execute", _note_write)

    # --- engines ---------------------------------------------------------------------------

    def _postgresql(self) -> Engine:
        from bot.storage.engine import DRIVER
        from bot.storage.urls import libpq

        assert self.where.url is not None
        url = libpq(self.where.url).replace("postgresql://", f"{DRIVER}://", 1)
        return create_engine(
            url,
            pool_pre_ping=True,
            pool_size=8,
            max_overflow=32,
            pool_timeout=10,
            connect_args={"connect_timeout": 5, "application_name": "supbot"},
        )

    def _sqlite(self) -> Engine:
        engine = create_engine(
            f"sqlite:///{self.path}",
            creator=self._open_sqlite,
            poolclass=SingletonThreadPool,
            pool_size=1024,  # one per thread; never closes another live thread's connection
        )
        event.listen(engine, "checkout", self._checkout)
        return engine

    def _open_sqlite(self) -> sqlite3.Connection:
        with self._lock, _flock(self.where.directory):
            missing = not self.path.exists()
            if missing:
                # Left behind by a removed database: a new file must not read its pages.
                for suffix in ("-wal", "-shm"):
                    with suppress(FileNotFoundError):
                        os.unlink(f"{self.path}{suffix}")
            conn = sqlite3.connect(
                self.path, timeout=30, isolation_level=None, check_same_thread=False
            )
            try:
                conn.execute("PRAGMA busy_timeout=30000")
                conn.execute("PRAGMA synchronous=NORMAL")
                if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                    conn.execute("PRAGMA journal_mode=WAL")
                st = os.stat(self.path)
                file = (st.st_dev, st.st_ino)
                # `missing` too: the removed file's inode number is free again once closed.
                if self._file is not None and (missing or file != self._file):
                    create_all_sqlite(conn)
                    self._on_new_file(missing)
                self._file = file
            except BaseException:
                conn.close()
                raise
        return conn

    def _checkout(self, dbapi: object, record: object, proxy: object) -> None:
        """A connection to a file no longer at the path is discarded: the pool opens anew."""
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            raise DisconnectionError("state database removed") from None
        if (st.st_dev, st.st_ino) != self._file:
            raise DisconnectionError("state database replaced")

    def _begin(self, conn: Connection) -> None:
        write = conn.get_execution_options().get(WRITE, False)
        if not self.postgresql:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")
        elif write:
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": WRITE_LOCK_KEY})

    # --- use -------------------------------------------------------------------------------

    @contextmanager
    def block(self, write: bool) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            if write:
                conn = conn.execution_options(**{WRITE: True})
            with conn.begin():
                yield conn

    def now(self, conn: Connection) -> float:
        """Epoch seconds by the database's clock (PostgreSQL), or this host's (SQLite: the
        database is on this host)."""
        if not self.postgresql:
            return time.time()
        found = conn.execute(text("SELECT extract(epoch FROM clock_timestamp())")).scalar_one()
        return float(found)

    def schema_version(self) -> str | None:
        with self.engine.connect() as conn:
            table = conn.dialect.has_table(conn, "alembic_version")
            if not table:
                return None
            found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
            return None if found is None else str(found)

    def probe(self) -> None:
        """Raises when the database does not answer a new connection."""
        if self.postgresql:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        from urllib.parse import quote

        probe = sqlite3.connect(f"file:{quote(str(self.path.resolve()))}?mode=ro", uri=True)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            probe.close()

    def dispose(self) -> None:
        self.engine.dispose()


def _note_write(
    conn: Connection, cursor: object, statement: str, params: object, context: Any, many: bool
) -> None:
    """The block changed rows (what clears a full or read-only condition: bot/state.py)."""
    if context is not None and (context.isinsert or context.isupdate or context.isdelete):
        conn.info[WROTE] = True


def create_all_sqlite(conn: sqlite3.Connection) -> None:
    """Every table and index of this version, on a raw connection, stamped at the newest
    schema version: what a new file at the path needs, without Alembic."""
    from sqlalchemy.dialects import sqlite

    dialect = sqlite.dialect()
    for table in metadata.sorted_tables:
        conn.execute(str(CreateTable(table, if_not_exists=True).compile(dialect=dialect)))
        for index in table.indexes:
            conn.execute(str(CreateIndex(index, if_not_exists=True).compile(dialect=dialect)))
    conn.execute(
        "CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32) NOT NULL PRIMARY KEY)"
    )
    conn.execute("DELETE FROM alembic_version")
    conn.execute("INSERT INTO alembic_version VALUES (?)", (SCHEMA_VERSION,))


@contextmanager
def _flock(directory: Path) -> Iterator[None]:
    """Across processes: only one creates a missing database and clears its -wal/-shm."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
