"""A SQLite state written by supbot 0.1, before migrations (the frozen dump in data/), is
adopted by `supbot db upgrade` with nothing lost, ends with exactly the schema a new state
gets, and the runtime Store opened on it (auto_upgrade) upgrades it and works."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from bot.audit import AuditLog
from bot.slack.event_dedup import first_delivery
from bot.state import DB_NAME, Store
from bot.storage.tables import SCHEMA_VERSION, metadata
from tests.storage.support import load_0_1_state, supbot, write_config

Rows = dict[str, tuple[list[str], list[tuple[object, ...]]]]


def every_row(path: Path, columns: dict[str, list[str]] | None = None) -> Rows:
    """Per table: its columns (or the `columns` given) and every row, in rowid order."""
    db = sqlite3.connect(path)
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        out: Rows = {}
        for name in names:
            if name == "alembic_version":
                continue
            have = columns.get(name) if columns else None
            cols = have or [r[1] for r in db.execute(f'PRAGMA table_info("{name}")')]
            listed = ", ".join(f'"{c}"' for c in cols)
            order = "" if name == "sqlite_sequence" else " ORDER BY rowid"
            out[name] = (cols, db.execute(f'SELECT {listed} FROM "{name}"{order}').fetchall())
        return out
    finally:
        db.close()


def test_an_old_sqlite_state_is_adopted_with_nothing_lost(tmp_path: Path) -> None:
    path = load_0_1_state(tmp_path / "state" / DB_NAME)
    before = every_row(path)
    for table in ("audit", "job_runs", "alert_expected", "heartbeats", "slack_events"):
        assert before[table][1], table  # the dump has rows where it matters
    config = write_config(tmp_path, 'dir = "state"')
    assert f"schema: none (newest: {SCHEMA_VERSION})" in supbot(config, "db", "status").stdout
    done = supbot(config, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"sqlite sqlite:///{path}: schema none → {SCHEMA_VERSION}"
    after = every_row(path, {t: cols for t, (cols, _) in before.items()})
    assert after == {**after, **before}  # every row of every old table, column for column
    assert set(after) - {"sqlite_sequence"} == set(metadata.tables)
    assert supbot(config, "db", "status").returncode == 0


def test_new_columns_of_adopted_rows_take_their_defaults(tmp_path: Path) -> None:
    path = load_0_1_state(tmp_path / "state" / DB_NAME)
    assert supbot(write_config(tmp_path, 'dir = "state"'), "db", "upgrade").returncode == 0
    db = sqlite3.connect(path)
    try:
        beat = db.execute("SELECT started, lease_until FROM heartbeats").fetchall()
        run = db.execute("SELECT lock_key, slot_key, lease_until FROM job_runs").fetchall()
    finally:
        db.close()
    assert beat == [(0.0, 0.0)] and run == [(None, None, 0.0)]


def test_the_store_upgrades_an_old_state_at_first_use_and_works_on_it(tmp_path: Path) -> None:
    load_0_1_state(tmp_path / "state" / DB_NAME)
    store = Store(tmp_path / "state")  # SQLite: auto_upgrade is on by default
    try:
        audit = AuditLog(store)
        old = audit.since()
        assert [(e.id, e.actor, e.action, e.target) for e in old] == [(1, "U1", "restart", "web")]
        new = audit.record("U2", "slack", "stop", "worker", "ok")
        assert new.id == 2  # the old sequence goes on
        assert first_delivery(store, "Ev2") and not first_delivery(store, "Ev2")
        store.heartbeat("listener", "again", lease=30.0)
        beat = store.last_heartbeat("listener")
        assert beat is not None and beat["detail"] == "again" and beat["lease_until"] > 0
    finally:
        store.close()
    done = supbot(write_config(tmp_path, 'dir = "state"'), "db", "status")
    assert (
        done.returncode == 0
        and f"schema: {SCHEMA_VERSION} (newest: {SCHEMA_VERSION})" in done.stdout
    )


AFFINITY = {"FLOAT": "REAL", "BIGINT": "INTEGER"}


def shape(path: Path) -> dict[str, object]:
    """Per table: columns (name, affinity, not null, default), primary key, indexes, uniques."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        conn = engine.connect()
        inspector = sa.inspect(engine)
        out: dict[str, object] = {}
        for name in sorted(
            set(inspector.get_table_names()) - {"alembic_version", "sqlite_sequence"}
        ):
            pk = inspector.get_pk_constraint(name)["constrained_columns"]
            # SQLite lets a key column be NULL unless it says NOT NULL; tables.py says it.
            columns = sorted(
                (
                    c["name"],
                    AFFINITY.get(str(c["type"]), str(c["type"])),
                    c["nullable"] and c["name"] not in pk,
                    c["default"],
                )
                for c in inspector.get_columns(name)
            )
            indexes = sorted(
                (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                for i in inspector.get_indexes(name)
            )
            uniques = sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
            )
            # AUTOINCREMENT: the ids of deleted rows never come back (sqlite_sequence).
            sql = conn.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :n"),
                {"n": name},
            ).scalar_one()
            out[name] = (columns, pk, indexes, uniques, "AUTOINCREMENT" in sql.upper())
        conn.close()
        return out
    finally:
        engine.dispose()


def test_an_adopted_state_has_the_schema_of_a_new_one(tmp_path: Path) -> None:
    load_0_1_state(tmp_path / "old" / DB_NAME)
    assert supbot(write_config(tmp_path, 'dir = "old"'), "db", "upgrade").returncode == 0
    new = tmp_path / "new.db"
    engine = sa.create_engine(f"sqlite:///{new}")
    metadata.create_all(engine)
    engine.dispose()
    assert shape(new) == shape(tmp_path / "old" / DB_NAME)


def test_an_empty_sqlite_directory_gets_every_table_and_the_store_uses_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'dir = "fresh"')
    assert supbot(config, "db", "upgrade").returncode == 0
    store = Store(tmp_path / "fresh")
    try:
        AuditLog(store).record("U1", "cli", "restart", "web", "ok")
        assert [e.target for e in AuditLog(store).since()] == ["web"]
    finally:
        store.close()
    assert set(every_row(store.path)) - {"sqlite_sequence"} == set(metadata.tables)
