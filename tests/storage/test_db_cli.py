"""`supbot db upgrade|status` as a user runs them, on a real PostgreSQL and on SQLite."""

from __future__ import annotations

import subprocess
from pathlib import Path

import sqlalchemy as sa

from bot.storage.engine import DRIVER
from bot.storage.tables import SCHEMA_VERSION, metadata
from tests.storage.support import ROOT, command, pg_engine, supbot, write_config

SECRET = "hunter2-s3cret"


def table_names(url: str) -> set[str]:
    engine = pg_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


def versions(url: str) -> list[str]:
    engine = pg_engine(url)
    try:
        with engine.connect() as conn:
            return [r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]
    finally:
        engine.dispose()


def test_upgrade_on_an_empty_postgresql_creates_every_table(pg_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, f'url = "{pg_url}"')
    done = supbot(config, "db", "upgrade")
    assert done.returncode == 0, done.stderr
    assert (
        done.stdout.strip()
        == f"postgresql {pg_url.replace('postgresql', DRIVER)}: schema none → {SCHEMA_VERSION}"
    )
    assert table_names(pg_url) == set(metadata.tables) | {"alembic_version"}
    engine = pg_engine(pg_url)
    try:
        inspector = sa.inspect(engine)
        for table in metadata.sorted_tables:
            indexes = inspector.get_indexes(table.name)
            # The index PostgreSQL keeps for a UNIQUE column is the constraint, not an index.
            found = {i["name"] for i in indexes if not i.get("duplicates_constraint")}
            assert found == {i.name for i in table.indexes}, table.name
            columns = [c["name"] for c in inspector.get_columns(table.name)]
            assert columns == [c.name for c in table.columns], table.name
    finally:
        engine.dispose()


def test_upgrade_is_idempotent(pg_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, f'url = "{pg_url}"')
    assert supbot(config, "db", "upgrade").returncode == 0
    again = supbot(config, "db", "upgrade")
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip().endswith(f"schema up to date ({SCHEMA_VERSION})")
    assert versions(pg_url) == [SCHEMA_VERSION]


def test_four_processes_upgrading_at_once_apply_the_migrations_once(
    pg_url: str, tmp_path: Path
) -> None:
    config = write_config(tmp_path, f'url = "{pg_url}"')
    procs = [
        subprocess.Popen(
            command(config, "db", "upgrade"),
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    outcomes = [(p.wait(timeout=90), *p.communicate()) for p in procs]
    assert [rc for rc, _, _ in outcomes] == [0, 0, 0, 0], [err for _, _, err in outcomes]
    outs = sorted(out.strip().rpartition(": ")[2] for _, out, _ in outcomes)
    assert outs == [
        f"schema none → {SCHEMA_VERSION}",
        *[f"schema up to date ({SCHEMA_VERSION})"] * 3,
    ]
    assert versions(pg_url) == [SCHEMA_VERSION]
    assert table_names(pg_url) == set(metadata.tables) | {"alembic_version"}


def test_status_says_what_to_run_then_up_to_date(pg_url: str, tmp_path: Path) -> None:
    config = write_config(tmp_path, f'url = "{pg_url}"')
    before = supbot(config, "db", "status")
    assert before.returncode == 1
    shown = pg_url.replace("postgresql", DRIVER)
    assert before.stdout.splitlines() == [
        "engine: postgresql",
        f"url: {shown}",
        f"schema: none (newest: {SCHEMA_VERSION})",
        "auto_upgrade: off",
    ]
    assert before.stderr.strip() == (
        f"the schema is older than this supbot: run `supbot db upgrade --config {config}`"
    )
    supbot(config, "db", "upgrade")
    after = supbot(config, "db", "status")
    assert after.returncode == 0, after.stderr
    assert f"schema: {SCHEMA_VERSION} (newest: {SCHEMA_VERSION})" in after.stdout.splitlines()


def test_the_password_is_never_shown(pg_url: str, tmp_path: Path) -> None:
    """The test server trusts everyone: a password is accepted and must stay hidden."""
    config = write_config(tmp_path, f'url = "{pg_url}"\npassword_env = "PGPW"')
    env = {"PGPW": SECRET}
    for args in (("db", "upgrade"), ("db", "status")):
        done = supbot(config, *args, env=env)
        assert done.returncode == 0, done.stderr
        assert SECRET not in done.stdout + done.stderr
        assert ":***@127.0.0.1" in done.stdout
    # Unreachable (nothing listens on port 1): the error names the URL, masked.
    down = write_config(tmp_path, 'url = "postgresql://bob@127.0.0.1:1/x"\npassword_env = "PGPW"')
    failed = supbot(down, "db", "status", env=env)
    assert failed.returncode == 1
    assert failed.stderr.startswith(f"supbot: state database {DRIVER}://bob:***@127.0.0.1:1/x: "), (
        failed.stderr
    )
    assert SECRET not in failed.stdout + failed.stderr and "Traceback" not in failed.stderr
    # A whole URL from the environment, password included.
    env_url = {"SUPBOT_DATABASE_URL": f"postgresql://bob:{SECRET}@127.0.0.1:1/x"}
    failed = supbot(write_config(tmp_path, 'dir = "st"'), "db", "status", env=env_url)
    assert failed.returncode == 1 and SECRET not in failed.stdout + failed.stderr
    assert "bob:***@127.0.0.1:1/x" in failed.stderr


def test_bad_urls_are_reported_by_check_config(tmp_path: Path) -> None:
    for url, words in (
        ("mysql://bob@h/db", "unsupported scheme 'mysql' (use postgresql://user@host/database)"),
        ("postgresql://bob@h", "names no database"),
        (f"postgresql://bob:{SECRET}@h/db", "holds a password: put it in the environment"),
    ):
        done = supbot(write_config(tmp_path, f'url = "{url}"'), "check-config")
        assert done.returncode == 2, done.stdout
        assert "storage.url" in done.stderr and words in done.stderr, done.stderr
        assert SECRET not in done.stderr and "Traceback" not in done.stderr
