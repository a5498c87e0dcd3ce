"""A SQLite state written by the code before migrations (Store.ensure) is adopted by
`supbot db upgrade` with nothing lost, and tables.py describes exactly the tables it wrote."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import sqlalchemy as sa

from bot.audit import AuditLog
from bot.scheduler.store import History
from bot.slack.event_dedup import first_delivery
from bot.state import DB_NAME, Store
from bot.storage.alerts.store import AlertStore
from bot.storage.tables import metadata
from tests.storage.test_db_cli import supbot, write_config


def written_by_the_current_code(directory: Path) -> Store:
    """Every feature's tables, created as the features create them, with rows in them."""
    store = Store(directory)
    audit = AuditLog(store)
    audit.record("U1", "cli", "restart", "web", "ok")
    AlertStore(store).mark_expected("local", "web", 1.0, 2.0)
    history = History(store)
    with store.transaction() as db:
        history.record_missed(db, "backup", 10.0, 20.0, 3, notify=False)
    assert first_delivery(store, "Ev1")
    store.heartbeat("listener", "ok")
    return store


def every_row(path: Path) -> dict[str, list[tuple[object, ...]]]:
    db = sqlite3.connect(path)
    try:
        names = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return {
            n: db.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall()
            for n in names
            if n not in ("sqlite_sequence", "alembic_version")
        }
    finally:
        db.close()


def test_an_existing_sqlite_state_is_adopted_with_nothing_lost(tmp_path: Path) -> None:
    store = written_by_the_current_code(tmp_path / "state")
    path = tmp_path / "state" / DB_NAME
    before = every_row(path)
    assert before["audit"] and before["job_runs"] and before["alert_expected"]
    config = write_config(tmp_path, 'dir = "state"')
    assert "schema: none (newest: 0002)" in supbot(config, "db", "status").stdout
    done = supbot(config, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"sqlite sqlite:///{path}: schema none → 0002"
    assert every_row(path) == before
    assert set(before) == set(metadata.tables)
    # The current code goes on working on the adopted database.
    audit = AuditLog(store)
    audit.record("U2", "slack", "stop", "worker", "ok")
    assert {e.actor for e in audit.since()} == {"U1", "U2"}
    assert first_delivery(store, "Ev2") and not first_delivery(store, "Ev1")
    assert supbot(config, "db", "status").returncode == 0


def test_an_empty_sqlite_directory_gets_every_table_and_the_store_uses_it(tmp_path: Path) -> None:
    config = write_config(tmp_path, 'dir = "fresh"')
    assert supbot(config, "db", "upgrade").returncode == 0
    store = written_by_the_current_code(tmp_path / "fresh")
    assert set(every_row(store.path)) == set(metadata.tables)


AFFINITY = {"FLOAT": "REAL", "BIGINT": "INTEGER"}


def shape(path: Path) -> dict[str, object]:
    """Per table: columns (name, affinity, not null, default, pk) and indexes (name, columns)."""
    engine = sa.create_engine(f"sqlite:///{path}")
    try:
        inspector = sa.inspect(engine)
        out: dict[str, object] = {}
        for name in sorted(
            set(inspector.get_table_names()) - {"alembic_version", "sqlite_sequence"}
        ):
            pk = inspector.get_pk_constraint(name)["constrained_columns"]
            # SQLite lets a key column be NULL unless it says NOT NULL; tables.py says it.
            columns = [
                (
                    c["name"],
                    AFFINITY.get(str(c["type"]), str(c["type"])),
                    c["nullable"] and c["name"] not in pk,
                    c["default"],
                )
                for c in inspector.get_columns(name)
            ]
            indexes = sorted(
                (i["name"], tuple(i["column_names"])) for i in inspector.get_indexes(name)
            )
            uniques = sorted(
                tuple(u["column_names"]) for u in inspector.get_unique_constraints(name)
            )
            out[name] = (columns, pk, indexes, uniques)
        return out
    finally:
        engine.dispose()


def test_tables_py_matches_what_the_features_create(tmp_path: Path) -> None:
    old = written_by_the_current_code(tmp_path / "old").path
    new = tmp_path / "new.db"
    engine = sa.create_engine(f"sqlite:///{new}")
    metadata.create_all(engine)
    engine.dispose()
    assert shape(new) == shape(old)
