"""`supbot db copy`: the SQLite state, every table and row, into a PostgreSQL database.

The target is brought to the newest schema first; the source must be at it too (the same
columns on both sides). The source is read in one transaction (a consistent snapshot while
supbot may still write); each table is written in its own transaction, in the order tables
depend on each other, with its ids kept; then each id sequence is moved past the highest id
SQLite ever gave (its sqlite_sequence, so an id of a deleted row is not given again).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from sqlalchemy import Connection, Table, column, delete, func, insert, select, table

from bot.storage.engine import Database
from bot.storage.tables import SCHEMA_VERSION, metadata

BATCH = 1000  # rows per INSERT: bounded memory for any size of audit log
# SQLite's own table: the highest id each AUTOINCREMENT table ever gave.
SQLITE_SEQUENCE = table("sqlite_sequence", column("name"), column("seq"))


class CopyRefused(Exception):
    """The copy was not started: why, and what would work."""


@dataclass(frozen=True)
class Copied:
    table: str
    rows: int


def copy_state(
    source: Database, target: Database, force: bool, done: Callable[[Copied], None]
) -> list[Copied]:
    """Copy every table of `source` (SQLite) into `target` (PostgreSQL); `done` hears of each
    table as it is committed. CopyRefused when the schemas or a non-empty target say no."""
    from bot.storage import migrate

    found = migrate.status(source).current
    if found != SCHEMA_VERSION:
        raise CopyRefused(
            f"the SQLite state {source.shown} has schema {found or 'none'}, this supbot copies "
            f"{SCHEMA_VERSION}: run `supbot db upgrade` on it first"
        )
    migrate.upgrade(target)
    with target.engine.connect() as conn:
        holding = [t.name for t in metadata.sorted_tables if _has_rows(conn, t)]
    if holding and not force:
        raise CopyRefused(
            f"{target.shown} already holds rows ({', '.join(holding)}): copy into an empty "
            "database, or add --force to replace them with the SQLite state's"
        )
    copied = []
    with source.engine.connect() as read:
        # One read transaction for every table: a snapshot (the Python driver begins one
        # only before a write, so say it).
        read.exec_driver_sql("BEGIN")
        for t in metadata.sorted_tables:
            with target.engine.begin() as write:
                count = _copy_table(read, write, t)
                _advance_sequence(read, write, t)
            copied.append(Copied(t.name, count))
            done(copied[-1])
        read.rollback()
    return copied


def _has_rows(conn: Connection, t: Table) -> bool:
    return conn.execute(select(1).select_from(t).limit(1)).first() is not None


def _copy_table(read: Connection, write: Connection, t: Table) -> int:
    write.execute(delete(t))  # empty unless --force: then the SQLite state's rows win
    count = 0
    for rows in _batches(read, t):
        write.execute(insert(t), rows)
        count += len(rows)
    return count


def _batches(read: Connection, t: Table) -> Iterator[list[dict[str, object]]]:
    result = read.execute(select(t).execution_options(yield_per=BATCH))
    for part in result.mappings().partitions(BATCH):
        yield [dict(row) for row in part]


def _advance_sequence(read: Connection, write: Connection, t: Table) -> None:
    """New rows inserted on PostgreSQL get ids past every id SQLite gave."""
    if "id" not in t.c or t.c.id.autoincrement is not True:
        return
    highest = read.execute(select(func.max(t.c.id))).scalar() or 0
    given = read.execute(
        select(SQLITE_SEQUENCE.c.seq).where(SQLITE_SEQUENCE.c.name == t.name)
    ).scalar()
    highest = max(int(highest), int(given or 0))
    if highest:
        sequence = func.pg_get_serial_sequence(t.name, "id")
        write.execute(select(func.setval(sequence, highest)))
