"""The schema's versions: `upgrade()` to the newest, `status()` for where a database stands.

Alembic runs from code (no alembic.ini): the scripts ship in bot/storage/migrations/. Upgrades
hold a migration lock, so several processes starting at once apply each migration once: a
PostgreSQL advisory lock (the database is shared between hosts), or an flock on a file next to
the SQLite database (the database is on this host).
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, text

from bot.storage.engine import Database

SCRIPTS = Path(__file__).resolve().parent / "migrations"
# pg_advisory_lock key: any constant that other applications sharing the database do not use.
LOCK_KEY = 0x5375_7062_6F74  # "Supbot"


@dataclass(frozen=True)
class SchemaStatus:
    current: str | None  # None: no schema version recorded (empty, or written before 0001)
    head: str

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head


def alembic_config(connection: Connection | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPTS))
    cfg.attributes["connection"] = connection
    return cfg


def head() -> str:
    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert found is not None, "no migration scripts shipped"
    return found


def status(db: Database) -> SchemaStatus:
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return SchemaStatus(current, head())


def upgrade(db: Database) -> tuple[SchemaStatus, SchemaStatus]:
    """Bring the schema to the newest version; (before, after). Safe to run again and from
    several processes at once: the second finds the work done."""
    with _migration_lock(db) as conn:
        before = MigrationContext.configure(conn).get_current_revision()
        command.upgrade(alembic_config(conn), "head")
        conn.commit()
        after = MigrationContext.configure(conn).get_current_revision()
    return SchemaStatus(before, head()), SchemaStatus(after, head())


@contextmanager
def _migration_lock(db: Database) -> Iterator[Connection]:
    if db.postgresql:
        with db.engine.connect() as conn:
            # Session-level: held across the migrations' own transactions until unlocked.
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": LOCK_KEY})
            conn.commit()
            try:
                yield conn
            finally:
                conn.rollback()
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": LOCK_KEY})
                conn.commit()
        return
    database = db.engine.url.database
    assert database, "a SQLite URL names its file"
    fd = os.open(f"{database}.migrate.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with db.engine.connect() as conn:
            yield conn
    finally:
        os.close(fd)
