"""The shared state: one SQLite database that every supbot process opens at once."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from bot.audit import AuditLog
from bot.cli import main
from bot.errors import StateUnavailable
from bot.state import DB_NAME, Store

WRITER = """
import sys
from pathlib import Path
from bot.audit import AuditLog
from bot.state import Store

directory, who = Path(sys.argv[1]), sys.argv[2]
audit = AuditLog(Store(directory))
print("ready", flush=True)
sys.stdin.readline()  # start together
for i in range(500):
    audit.record(who, "cli", "restart", f"web-{i}", "ok")
print("done", flush=True)
"""


def test_two_processes_writing_at_once_lose_nothing(tmp_path: Path) -> None:
    state = tmp_path / "state"  # neither process finds the database: both create it
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(state), who],
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
        out, _ = w.communicate(timeout=60)
        assert w.returncode == 0 and out.strip() == "done"
    entries = AuditLog(Store(state)).since(None, limit=5000)
    assert len(entries) == 1000
    for who in ("cli:a", "cli:b"):
        mine = [e.target for e in entries if e.actor == who]
        assert mine == [f"web-{i}" for i in range(500)]  # each writer's order kept
    assert len({e.id for e in entries}) == 1000


def test_database_is_in_wal_mode_in_the_storage_dir(tmp_path: Path) -> None:
    store = Store(tmp_path / "s")
    assert store.path == tmp_path / "s" / DB_NAME
    with store.connect() as db:
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_ensure_is_idempotent_and_any_process_may_start_first(tmp_path: Path) -> None:
    first, second = Store(tmp_path), Store(tmp_path)
    AuditLog(first).record("U1", "slash", "stop", "web", "ok")
    AuditLog(second)  # creating the tables again keeps the rows
    assert [e.target for e in AuditLog(first).since()] == ["web"]


def test_transaction_rolls_back_on_error(tmp_path: Path) -> None:
    store = Store(tmp_path)
    store.ensure("CREATE TABLE IF NOT EXISTS claims (name TEXT PRIMARY KEY)")
    try:
        with store.transaction() as db:
            db.execute("INSERT INTO claims VALUES ('a')")
            raise RuntimeError("crash mid-way")
    except RuntimeError:
        pass
    with store.connect() as db:
        assert db.execute("SELECT count(*) FROM claims").fetchone()[0] == 0


def test_concurrent_claims_are_taken_once(tmp_path: Path) -> None:
    """BEGIN IMMEDIATE: of 8 threads claiming the same run, exactly one wins."""
    store = Store(tmp_path)
    store.ensure("CREATE TABLE IF NOT EXISTS claims (name TEXT PRIMARY KEY, owner TEXT)")
    winners: list[int] = []
    barrier = threading.Barrier(8)

    def claim(n: int) -> None:
        barrier.wait()
        with store.transaction() as db:
            if db.execute("SELECT 1 FROM claims WHERE name='run-1'").fetchone() is None:
                db.execute("INSERT INTO claims VALUES ('run-1', ?)", (str(n),))
                winners.append(n)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(winners) == 1


def test_heartbeat_records_the_latest_beat(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert store.last_heartbeat("serve") is None
    store.heartbeat("serve", "starting")
    first = store.last_heartbeat("serve")
    store.heartbeat("serve", "ok")
    row = store.last_heartbeat("serve")
    assert first is not None and row is not None
    assert row["detail"] == "ok" and row["seen"] >= first["seen"] and row["pid"] > 0


def test_audit_since_and_prune(tmp_path: Path) -> None:
    audit = AuditLog(Store(tmp_path))
    old = audit.record("U1", "slash", "stop", "web", "ok")
    with audit.store.connect() as db:
        db.execute("UPDATE audit SET at = at - 86400 WHERE id = ?", (old.id,))
    audit.record("U1", "slash", "start", "web", "failed", "C0OPS", 1.5, "boom")
    assert [e.action for e in audit.since(3600)] == ["start"]
    assert audit.prune(3600) == 1
    (entry,) = audit.since()
    assert (entry.outcome, entry.channel, entry.duration, entry.error) == (
        "failed",
        "C0OPS",
        1.5,
        "boom",
    )


# --- the database removed, corrupted or full while supbot runs -----------------------------


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
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count={pages}")
    with caplog.at_level(logging.INFO, "supbot.state"):
        for _ in range(3):
            with pytest.raises(StateUnavailable) as exc:
                for i in range(1000):
                    audit.record("U1", "slash", "restart", f"web-{i}" + "x" * 500, "ok")
        assert str(exc.value).startswith(f"state database {store.path} is full (")
        assert "database or disk is full" in str(exc.value)
        assert store.health() == str(exc.value)
        with store.connect() as db:
            db.execute("PRAGMA max_page_count=1000000")  # space again
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
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
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
