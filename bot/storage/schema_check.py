"""At a process's first use of the state: the schema is the newest, or made so when allowed.

An empty database gets every table at once (both engines; no Alembic import: the common first
start stays fast). An older schema is upgraded with the migrations when `[storage]
auto_upgrade` is on (SQLite's default), under the migration lock; otherwise, and for a schema
newer than this supbot knows, `StateUnavailable` names what to run.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, inspect

from bot.errors import StateUnavailable
from bot.state import Where
from bot.storage.runtime import Backend
from bot.storage.tables import SCHEMA_VERSION, metadata


def bring_up_to_date(backend: Backend, where: Where) -> None:
    current = backend.schema_version()
    if current == SCHEMA_VERSION:
        return
    shown = where.shown or str(backend.path)
    if current is not None and current > SCHEMA_VERSION:
        raise StateUnavailable(
            f"state database {shown} has schema {current}, newer than this supbot knows "
            f"({SCHEMA_VERSION}): upgrade supbot on this host"
        )
    with backend.block(write=True) as conn:
        if _empty(conn):
            metadata.create_all(conn)
            _stamp(conn)
            return
    if not where.auto_upgrade:
        raise StateUnavailable(
            f"state database {shown} has schema {current or 'none'}, this supbot needs "
            f"{SCHEMA_VERSION}: run `supbot db upgrade` (or set [storage] auto_upgrade = true)"
        )
    from bot.storage import migrate
    from bot.storage.engine import Database

    migrate.upgrade(Database(backend.engine, backend.postgresql, shown, None))


def _empty(conn: Connection) -> bool:
    names = set(inspect(conn).get_table_names())
    return not names & set(metadata.tables)


def _stamp(conn: Connection) -> None:
    from sqlalchemy import Column, MetaData, String, Table

    version = Table(
        "alembic_version",
        MetaData(),
        Column("version_num", String(32), primary_key=True, nullable=False),
    )
    version.create(conn, checkfirst=True)
    conn.execute(version.delete())
    conn.execute(insert(version).values(version_num=SCHEMA_VERSION))
