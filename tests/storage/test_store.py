"""The Store's own semantics on both engines: blocks commit or roll back, a block inside a block
joins it, write blocks are serialized across processes, notify wakes waiters, an unreachable
server is one line and the Store carries on once it is back, an older schema is upgraded or
named with the command to run."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import Connection, insert, select

from bot.audit import AuditLog
from bot.config import StorageSettings
from bot.errors import StateUnavailable
from bot.state import Store
from bot.storage.engine import open_database
from bot.storage.tables import SCHEMA_VERSION, kv
from tests.conftest import storage_settings, wait_until
from tests.storage.support import ROOT


def value(store: Store, key: str) -> str | None:
    with store.connect() as db:
        found = db.execute(select(kv.c.value).where(kv.c.key == key)).scalar()
    return None if found is None else str(found)


def put(db: Connection, key: str, text: str) -> None:
    db.execute(insert(kv).values(key=key, value=text, updated=0.0))


def test_a_block_commits_when_it_ends_and_rolls_back_on_an_exception(state_store: Store) -> None:
    with state_store.transaction() as db:
        put(db, "kept", "1")
    with pytest.raises(RuntimeError), state_store.connect() as db:
        put(db, "lost", "1")
        raise RuntimeError("crash mid-way")
    assert (value(state_store, "kept"), value(state_store, "lost")) == ("1", None)


def test_a_block_inside_a_block_joins_it(state_store: Store) -> None:
    with pytest.raises(RuntimeError), state_store.transaction() as outer:
        with state_store.connect() as inner:
            assert inner is outer
            put(inner, "inner", "1")  # the inner block ends: not committed yet
        raise RuntimeError("the outer block fails")
    assert value(state_store, "inner") is None


INCREMENTER = """
import sys
from pathlib import Path
from sqlalchemy import select, update
from bot.config import StorageSettings
from bot.state import Store
from bot.storage.tables import kv

directory, url, times = Path(sys.argv[1]), sys.argv[2] or None, int(sys.argv[3])
store = Store(StorageSettings(directory, 3600.0, url, None, True))
store.ensure()
print("ready", flush=True)
sys.stdin.readline()  # start together
for _ in range(times):
    with store.transaction() as db:
        now = int(db.execute(select(kv.c.value).where(kv.c.key == "n")).scalar_one())
        db.execute(update(kv).where(kv.c.key == "n").values(value=str(now + 1)))
print("done", flush=True)
"""


def test_write_blocks_of_two_processes_lose_no_update(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Read, increment, write in `transaction()`, 2 processes × 200: the count is 400."""
    settings = storage_settings(engine, tmp_path, request)
    store = Store(settings)
    with store.transaction() as db:
        put(db, "n", "0")
    argv = [sys.executable, "-c", INCREMENTER, str(settings.dir), settings.url or "", "200"]
    procs = [
        subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=ROOT)
        for _ in range(2)
    ]
    for p in procs:
        assert p.stdout and p.stdout.readline().strip() == "ready"
    for p in procs:
        assert p.stdin
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        out, _ = p.communicate(timeout=120)
        assert p.returncode == 0 and out.strip() == "done"
    assert value(store, "n") == "400"
    store.close()


def notify_soon(store: Store, topic: str) -> threading.Thread:
    def run() -> None:
        with store.transaction() as db:
            put(db, topic, "work")
            store.notify(db, topic)

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def test_notify_wakes_a_waiter_of_the_same_store(state_store: Store) -> None:
    waiter = state_store.waiter("outbox")
    try:
        assert not waiter.wait(0.05)  # nothing yet (and, on PostgreSQL, listening from now)
        notify_soon(state_store, "outbox").join(10)
        assert waiter.wait(1.0)
        assert value(state_store, "outbox") == "work"  # woken after the commit
    finally:
        waiter.stop()


def test_notify_wakes_a_waiter_of_another_store_on_postgresql(
    tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Another Store is another process or host: PostgreSQL's NOTIFY reaches it."""
    settings = storage_settings("postgresql", tmp_path, request)
    writer, reader = Store(settings), Store(settings)
    writer.ensure()
    waiter = reader.waiter("requests")
    try:
        assert not waiter.wait(0.05)
        notify_soon(writer, "requests").join(10)
        assert waiter.wait(1.0)
        assert not waiter.wait(0.05)  # once per notification
    finally:
        waiter.stop()
        writer.close()
        reader.close()


SECRET = "pg-s3cret-pw"


def test_an_unreachable_server_is_one_line_and_the_store_works_once_it_is_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from tests.storage.postgres import PostgresServer

    server = PostgresServer()  # its own: stopped and started again here
    server.start()
    try:
        url = server.database()
        # The test server trusts any password: it is given to be kept out of every message.
        store = Store(StorageSettings(tmp_path, 3600.0, url, SECRET, True))
        audit = AuditLog(store)
        audit.record("U1", "cli", "restart", "before", "ok")
        server.pause()
        with caplog.at_level(logging.INFO, "supbot.state"):
            for _ in range(3):
                with pytest.raises(StateUnavailable) as exc:
                    audit.record("U1", "cli", "restart", "while down", "ok")
            said = str(exc.value)
            assert said.startswith(f"state database {url} is unreachable (")
            assert said.endswith("supbot retries until it answers")
            assert "\n" not in said and SECRET not in said
            assert store.health() == said
            server.resume()
            wait_until(lambda: store.health() is None, 60, 0.2)
            audit.record("U1", "cli", "restart", "after", "ok")
        logged = [r.getMessage() for r in caplog.records]
        assert logged == [said, f"state database {url} answers again"]
        assert [e.target for e in audit.since()] == ["before", "after"]
        store.close()
    finally:
        server.stop()


def schema_at(settings: StorageSettings, revision: str) -> None:
    """The state's schema as an older supbot left it."""
    from alembic import command

    from bot.storage.migrate import alembic_config

    db = open_database(settings)
    try:
        with db.engine.connect() as conn:
            command.upgrade(alembic_config(conn), revision)
            conn.commit()
    finally:
        db.engine.dispose()


def test_an_older_schema_without_auto_upgrade_names_the_command_to_run(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = replace(storage_settings(engine, tmp_path, request), auto_upgrade=False)
    schema_at(settings, "0002")
    store = Store(settings)
    with pytest.raises(StateUnavailable) as exc:
        store.ensure()
    assert str(exc.value) == (
        f"state database {store.shown} has schema 0002, this supbot needs {SCHEMA_VERSION}: "
        "run `supbot db upgrade` (or set [storage] auto_upgrade = true)"
    )
    store.close()


def test_an_older_schema_with_auto_upgrade_is_upgraded_at_first_use(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = storage_settings(engine, tmp_path, request)
    schema_at(settings, "0002")
    store = Store(settings)
    store.heartbeat("scheduler", "ok", lease=30.0)  # a 0003 column
    beat = store.last_heartbeat("scheduler")
    assert beat is not None and beat["lease_until"] > 0
    store.close()


def test_schema_version_is_the_newest_migration() -> None:
    """What a process checks at start without Alembic is what the migrations end at."""
    from bot.storage.migrate import head

    assert head() == SCHEMA_VERSION


def test_the_database_clock_is_epoch_seconds(state_store: Store) -> None:
    import time

    with state_store.connect() as db:
        now = state_store.now(db)
    assert abs(now - time.time()) < 60  # the test server runs on this host
