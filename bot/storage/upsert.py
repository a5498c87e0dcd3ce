"""INSERT … ON CONFLICT for both engines (each dialect has its own construct)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert


def _insert(db: Connection, table: Table) -> Any:
    return (postgresql if db.dialect.name == "postgresql" else sqlite).insert(table)


def upsert(
    db: Connection,
    table: Table,
    row: Mapping[str, Any],
    keys: Sequence[str],
    update: Sequence[str] | None = None,
    values: Mapping[str, Any] | None = None,
) -> Insert:
    """Insert `row`, or on a conflict on `keys` set the `update` columns (default: every
    other column of the row) from it, and the `values` columns to those expressions (which
    may read the existing row's columns: a counter, a value kept while in force)."""
    stmt = _insert(db, table).values(**row)
    values = values or {}
    columns = [c for c in row if c not in keys and c not in values] if update is None else update
    done: Insert = stmt.on_conflict_do_update(
        index_elements=list(keys), set_={**{c: stmt.excluded[c] for c in columns}, **values}
    )
    return done


def insert_ignore(db: Connection, table: Table, row: Mapping[str, Any]) -> Insert:
    """Insert `row` unless it conflicts with a unique key (then nothing)."""
    done: Insert = _insert(db, table).values(**row).on_conflict_do_nothing()
    return done
