"""The shared state: one database (SQLite file or PostgreSQL) that every supbot process opens
at once. The Store's own semantics (blocks, locks, notify, faults) are in
tests/storage/test_store.py; here the records every process shares."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import update

from bot.audit import AuditLog, AuditUnavailable
from bot.cli import main
from bot.errors import StateUnavailable
from bot.state import DB_NAME, Store
from bot.storage.tables import audit
from tests.conftest import break_audit, storage_settings

WRITER = """
import sys
from pathlib import Path
from bot.audit import AuditLog
from bot.config import StorageSettings
from bot.state import Store

directory, url, who = Path(sys.argv[1]), sys.argv[2] or None, sys.argv[3]
audit = AuditLog(Store(StorageSettings(directory, 3600.0, url, None, True)))
print("ready", flush=True)
sys.stdin.readline()  # start together
for i in range(500):
    audit.record(who, "cli", "restart", f"web-{i}", "ok")
print("done", flush=True)
"""


def test_two_processes_writing_at_once_lose_nothing(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # Neither process finds the tables: both create them (SQLite: the file too).
    settings = storage_settings(engine, tmp_path, request)
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(settings.dir), settings.url or "", who],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=Path(__file__).resolve().parent.parent,
        )
        for who in ("cli:a", "cli:b")
    ]
    for w in writers:
        assert w.stdout and w.stdout.readline().strip() == "ready"
    for w in writers:
        assert w.stdin
        w.stdin.write("go\n")
        w.stdin.flush()
    for w in writers:
        out, _ = w.communicate(timeout=120)
        assert w.returncode == 0 and out.strip() == "done"
    entries = AuditLog(Store(settings)).since(None, limit=5000)
    assert len(entries) == 1000
    for who in ("cli:a", "cli:b"):
        mine = [e.target for e in entries if e.actor == who]
        assert mine == [f"web-{i}" for i in range(500)]  # each writer's order kept
    assert len({e.id for e in entries}) == 1000


def test_database_is_in_wal_mode_in_the_storage_dir(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    assert store.path == tmp_path / "s" / DB_NAME
    with store.connect() as db:
        assert db.exec_driver_sql("PRAGMA journal_mode").scalar_one() == "wal"


def test_any_process_may_start_first_and_the_next_keeps_the_rows(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = storage_settings(engine, tmp_path, request)
    first, second = Store(settings), Store(settings)
    AuditLog(first).record("U1", "slash", "stop", "web", "ok")
    AuditLog(second)  # finding the schema in place changes nothing
    assert [e.target for e in AuditLog(second).since()] == ["web"]


def test_heartbeat_records_the_latest_beat(state_store: Store) -> None:
    assert state_store.last_heartbeat("serve") is None
    state_store.heartbeat("serve", "starting")
    first = state_store.last_heartbeat("serve")
    state_store.heartbeat("serve", "ok")
    row = state_store.last_heartbeat("serve")
    assert first is not None and row is not None
    assert row["detail"] == "ok" and row["seen"] >= first["seen"] and row["pid"] > 0


def test_audit_since_and_prune(state_store: Store) -> None:
    log = AuditLog(state_store)
    old = log.record("U1", "slash", "stop", "web", "ok")
    with state_store.connect() as db:
        db.execute(update(audit).where(audit.c.id == old.id).values(at=audit.c.at - 86400))
    log.record("U1", "slash", "start", "web", "failed", "C0OPS", 1.5, "boom")
    assert [e.action for e in log.since(3600)] == ["start"]
    assert log.prune(3600) == 1
    (entry,) = log.since()
    assert (entry.outcome, entry.channel, entry.duration, entry.error) == (
        "failed",
        "C0OPS",
        1.5,
        "boom",
    )


def test_an_attempt_is_completed_in_place_and_ids_are_new_each_time(state_store: Store) -> None:
    log = AuditLog(state_store)
    first, second = log.begin("U1", "slash", "restart", ["web@a", "web@b"], "C0OPS")
    assert [e.outcome for e in log.since()] == ["started", "started"]
    log.finish(first, "ok", 0.5)
    log.finish(second, "failed", 0.0, "node down")
    assert [(e.id, e.outcome, e.error) for e in log.since()] == [
        (first.id, "ok", ""),
        (second.id, "failed", "node down"),
    ]
    assert log.record("U1", "slash", "stop", "web", "ok").id > second.id


def test_a_write_that_fails_records_no_attempt_and_says_nothing_was_changed(
    state_store: Store,
) -> None:
    """Both engines: an audit table that refuses a row (a trigger that raises) → no attempt is
    left half-recorded and the caller is told not to act."""
    log = AuditLog(state_store)
    log.record("U1", "slash", "stop", "before", "ok")
    break_audit(state_store)
    with pytest.raises(AuditUnavailable) as exc:
        log.begin("U1", "slash", "restart", ["web@a", "web@b"])
    assert str(exc.value).startswith(
        "Not done: the audit log could not record it (database or disk is full). "
        "Nothing was changed"
    )
    assert [e.target for e in log.since()] == ["before"]


# --- the database removed, corrupted or full while supbot runs (SQLite's own conditions) ----


def test_a_removed_database_is_created_again_with_its_tables_and_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path)
    audit = AuditLog(store)
    audit.record("U1", "slash", "stop", "before", "ok")
    store.path.unlink()
    with caplog.at_level(logging.WARNING, "supbot.state"):
        audit.record("U1", "slash", "stop", "after", "ok")  # not "no such table"
        audit.record("U1", "slash", "stop", "again", "ok")
        store.heartbeat("serve")
    said = [r.getMessage() for r in caplog.records]
    assert len(said) == 1 and f"state database {store.path} was removed" in said[0]
    # written to the file at the path, where every other process looks, not the unlinked one
    assert [e.target for e in AuditLog(Store(tmp_path)).since()] == ["after", "again"]
    assert store.health() is None


def test_a_full_database_is_one_clear_error_logged_once_and_in_health(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(tmp_path)
    audit = AuditLog(store)
    with store.connect() as db:  # a real SQLITE_FULL without filling the disk
        pages = db.exec_driver_sql("PRAGMA page_count").scalar_one()
        db.exec_driver_sql(f"PRAGMA max_page_count={pages}")
    with caplog.at_level(logging.INFO, "supbot.state"):
        for _ in range(3):
            with pytest.raises(StateUnavailable) as exc:
                for i in range(1000):
                    audit.record("U1", "slash", "restart", f"web-{i}" + "x" * 500, "ok")
        assert str(exc.value).startswith(f"state database {store.path} is full (")
        assert "database or disk is full" in str(exc.value)
        assert store.health() == str(exc.value)
        with store.connect() as db:
            db.exec_driver_sql("PRAGMA max_page_count=1000000")  # space again
        audit.record("U1", "slash", "restart", "web", "ok")
    said = [r.getMessage() for r in caplog.records]
    assert said == [str(exc.value), f"state database {store.path} is writable again"]
    assert store.health() is None


def test_a_database_corrupted_while_running_is_an_error_naming_it_and_health_says_so(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path)
    audit = AuditLog(store)
    audit.record("U1", "slash", "stop", "web", "ok")
    with store.connect() as db:
        db.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    size = store.path.stat().st_size
    with store.path.open("r+b") as f:
        f.write((b"this is not a database. " * size)[:size])
    failures: list[BaseException] = []

    def request() -> None:  # a request thread, with its own connection
        try:
            audit.record("U1", "slash", "start", "web", "ok")
        except BaseException as exc:
            failures.append(exc)

    worker = threading.Thread(target=request)
    worker.start()
    worker.join(30)
    (failure,) = failures
    assert isinstance(failure, StateUnavailable)
    line = f"state database {store.path} is not a database (file is not a database)"
    assert str(failure).startswith(line)
    assert (store.health() or "").startswith(line)


def test_a_file_that_is_not_a_database_stops_the_start_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / DB_NAME).write_bytes(b"\x00garbage, not SQLite\n" * 100)
    config = tmp_path / "supbot.toml"
    config.write_text(
        f'[storage]\ndir = "{state}"\n\n[[nodes]]\nname = "local"\nurl = "unix:///nonexistent"\n'
    )
    assert main(["--config", str(config), "audit"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"supbot: state database {state / DB_NAME} is not a database (file is not a database): "
        "move it aside (or restore a backup) and restart; supbot creates a new one when none "
        "is there"
    ]


def test_a_slack_event_is_a_first_delivery_once_across_stores(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    from bot.slack.event_dedup import first_delivery

    settings = storage_settings(engine, tmp_path, request)
    one, other = Store(settings), Store(settings)  # two processes handed Slack's retries
    assert first_delivery(one, "Ev1")
    assert not first_delivery(other, "Ev1") and not first_delivery(one, "Ev1")
    assert first_delivery(other, "Ev2")
    assert first_delivery(one, "")  # no id: never taken for a retry
    one.close()
    other.close()
