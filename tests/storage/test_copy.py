"""`supbot db copy --to postgresql://…`: a SQLite state (the frozen 0.1 dump, upgraded, plus
rows in every table) into a real PostgreSQL, every row kept, ids continuing past the copied ones,
the password never shown."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
import sqlalchemy as sa

from bot.audit import AuditLog
from bot.config import StorageSettings
from bot.state import DB_NAME, Store
from bot.storage.engine import DRIVER
from bot.storage.tables import SCHEMA_VERSION, alert_outbox, metadata
from tests.storage.support import load_0_1_state, pg_engine, supbot, write_config

SECRET = "copy-s3cret"
Everything = dict[str, list[tuple[object, ...]]]


def sample(table: sa.Table, i: int) -> dict[str, object]:
    """A row of `table` with a value in every column (NULL in the nullable ones when i == 2);
    ids with gaps, so the copy must keep them rather than number rows anew."""
    row: dict[str, object] = {}
    for c in table.columns:
        kind = c.type.python_type
        if c.name == "id":
            row["id"] = i * 10
        elif c.nullable and i == 2:
            row[c.name] = None
        elif kind is str:
            row[c.name] = f"{table.name}.{c.name} {i} é"
        else:
            row[c.name] = kind(i) + (0.25 if kind is float else 0)
    return row


def sqlite_state(tmp: Path) -> Path:
    """The 0.1 dump brought to the newest schema, three more rows in every table, and an
    audit id given then deleted (the sequence is past every id left)."""
    path = load_0_1_state(tmp / "state" / DB_NAME)
    assert supbot(write_config(tmp, 'dir = "state"'), "db", "upgrade").returncode == 0
    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.begin() as db:
        for table in metadata.sorted_tables:
            db.execute(sa.insert(table), [sample(table, i) for i in (1, 2, 3)])
        db.execute(sa.insert(metadata.tables["audit"]), sample(metadata.tables["audit"], 9))
        db.execute(sa.delete(metadata.tables["audit"]).where(sa.text("id = 90")))
    engine.dispose()
    return path


def every_row(engine: sa.Engine) -> Everything:
    with engine.connect() as db:
        return {
            t.name: [tuple(r) for r in db.execute(sa.select(t).order_by(*t.primary_key.columns))]
            for t in metadata.sorted_tables
        }


def copy(tmp: Path, url: str, *more: str) -> tuple[int, str, str]:
    config = write_config(tmp, 'dir = "state"')
    done = supbot(config, "db", "copy", "--to", url, "--password-env", "PGPW", *more,
                  env={"PGPW": SECRET})  # fmt: skip
    return done.returncode, done.stdout, done.stderr


def test_every_row_is_copied_and_new_rows_get_new_ids(pg_url: str, tmp_path: Path) -> None:
    path = sqlite_state(tmp_path)
    source = sa.create_engine(f"sqlite:///{path}")
    before = every_row(source)
    source.dispose()
    for table in ("audit", "alert_incidents", "alert_outbox", "job_runs", "alert_snoozes"):
        assert len(before[table]) >= 3, table
    rc, out, err = copy(tmp_path, pg_url)
    assert rc == 0, err
    shown = pg_url.replace("postgresql://postgres@", f"{DRIVER}://postgres:***@")
    lines = out.splitlines()
    assert lines[0] == f"copying sqlite:///{path} → {shown}"
    assert "  audit: 4 rows" in lines and "  alert_outbox: 3 rows" in lines
    assert lines[-1].startswith(f"copied {sum(map(len, before.values()))} rows in ")
    assert SECRET not in out + err
    target = pg_engine(pg_url)
    try:
        assert every_row(target) == before
        with target.begin() as db:  # a new row of a table that had only copied rows
            new_id = db.execute(
                sa.insert(alert_outbox)
                .values(channel="C1", kind="post", created=1.0)
                .returning(alert_outbox.c.id)
            ).scalar_one()
        assert new_id == 31
    finally:
        target.dispose()
    store = Store(StorageSettings(tmp_path, 3600.0, pg_url, None, False))
    entry = AuditLog(store).record("U9", "cli", "restart", "web", "ok")
    assert entry.id == 91  # past the deleted 90, as SQLite would have gone on
    store.close()


def test_a_target_holding_rows_is_refused_unless_forced(pg_url: str, tmp_path: Path) -> None:
    sqlite_state(tmp_path)
    assert copy(tmp_path, pg_url)[0] == 0
    rc, out, err = copy(tmp_path, pg_url)
    assert rc == 1
    assert "already holds rows (" in err and "add --force to replace them" in err
    assert SECRET not in out + err
    rc, out, err = copy(tmp_path, pg_url, "--force")
    assert rc == 0, err
    assert "  audit: 4 rows" in out.splitlines()


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("--to", f"postgresql://bob:{SECRET}@127.0.0.1/x"), "--to holds a password"),
        (("--to", "mysql://bob@h/x"), "unsupported scheme 'mysql'"),
        ((), "name the PostgreSQL database to copy into: --to postgresql://"),
    ],
)
def test_bad_targets_are_one_line_naming_what_would_work(
    tmp_path: Path, args: tuple[str, ...], said: str
) -> None:
    sqlite_state(tmp_path)
    done = supbot(write_config(tmp_path, 'dir = "state"'), "db", "copy", *args)
    assert done.returncode == 2 and said in done.stderr, done.stderr
    assert SECRET not in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_an_old_sqlite_state_must_be_upgraded_first(pg_url: str, tmp_path: Path) -> None:
    load_0_1_state(tmp_path / "state" / DB_NAME)
    done = supbot(write_config(tmp_path, 'dir = "state"'), "db", "copy", "--to", pg_url)
    assert done.returncode == 1
    assert (
        f"has schema none, this supbot copies {SCHEMA_VERSION}: run `supbot db upgrade`"
        in done.stderr
    )
    db = sqlite3.connect(tmp_path / "state" / DB_NAME)
    try:  # the source was not changed
        assert db.execute("SELECT count(*) FROM sqlite_master WHERE name='leases'").fetchone() == (
            0,
        )
    finally:
        db.close()


def test_an_unreachable_target_is_one_line_without_the_password(tmp_path: Path) -> None:
    sqlite_state(tmp_path)
    rc, out, err = copy(tmp_path, "postgresql://bob@127.0.0.1:1/x")
    assert rc == 1 and "Traceback" not in err
    assert err.startswith(f"supbot: copy to {DRIVER}://bob:***@127.0.0.1:1/x stopped: "), err
    assert SECRET not in out + err
