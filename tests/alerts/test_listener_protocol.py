"""The listener protocol on plain streams: every event acknowledged, nothing else on stdout."""

from __future__ import annotations

import io
from pathlib import Path

from sqlalchemy import select

from bot.alerts.listener import Listener
from bot.state import Store
from bot.storage.alerts.store import AlertStore
from bot.storage.tables import alert_events

c = alert_events.c


def _event(name: str, payload: str, poolserial: int) -> str:
    header = (
        f"ver:3.0 server:supervisor serial:{poolserial} pool:supbot poolserial:{poolserial} "
        f"eventname:{name} len:{len(payload)}\n"
    )
    return header + payload


def _run(tmp_path: Path, stream: str) -> tuple[str, Store]:
    store = Store(tmp_path / "state")
    out = io.StringIO()
    Listener(store, "local", io.StringIO(stream), out).run()
    return out.getvalue(), store


def test_events_are_recorded_and_each_acknowledged(tmp_path: Path) -> None:
    stream = (
        _event(
            "PROCESS_STATE_EXITED",
            "processname:web groupname:web from_state:RUNNING expected:0 pid:42",
            1,
        )
        + _event(
            "PROCESS_STATE_EXITED",
            "processname:web groupname:web from_state:RUNNING expected:1 pid:43",
            2,
        )
        + _event("TICK_60", "when:1700000000", 3)
        + _event("PROCESS_STATE_FATAL", "processname:café groupname:café from_state:BACKOFF", 4)
    )
    out, store = _run(tmp_path, stream)
    assert out == "READY\n" + "RESULT 2\nOKREADY\n" * 4
    with store.connect() as db:
        rows = db.execute(select(c.process, c.state, c.pid).order_by(c.id)).all()
    assert [tuple(r) for r in rows] == [("web:web", "EXITED", 42), ("café:café", "FATAL", 0)]
    beat = store.last_heartbeat("listener:local")
    assert beat is not None


def test_malformed_headers_and_payloads_are_acknowledged_not_fatal(tmp_path: Path) -> None:
    stream = (
        "this is not a header\n"
        + "ver:3.0 eventname:PROCESS_STATE_EXITED len:abc\n"
        + _event("PROCESS_STATE_EXITED", "garbage without names", 7)
        + _event(
            "PROCESS_STATE_BACKOFF", "processname:w groupname:w from_state:STARTING tries:1", 8
        )
    )
    out, store = _run(tmp_path, stream)
    assert out == "READY\n" + "RESULT 2\nOKREADY\n" * 4
    with store.connect() as db:
        rows = db.execute(select(c.process, c.state)).all()
    assert [tuple(r) for r in rows] == [("w:w", "BACKOFF")]


def test_events_discarded_by_supervisord_are_counted(tmp_path: Path) -> None:
    tick = "when:1700000000"
    stream = _event("TICK_60", tick, 1) + _event("TICK_60", tick, 5) + _event("TICK_60", tick, 6)
    _, store = _run(tmp_path, stream)
    assert AlertStore(store).lost("local") == 3


def test_sighup_rereads_the_config_and_the_listener_keeps_answering(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys

    config = tmp_path / "supbot.toml"
    config.write_text(
        f'[storage]\ndir = "state"\n\n[[nodes]]\nname = "local"\nurl = "unix://{tmp_path}/s.sock"\n'
    )
    env = {**os.environ, "SUPBOT_CONFIG": str(config)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "listen", "--node", "local"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdin and proc.stdout
    try:
        assert proc.stdout.readline() == "READY\n"
        proc.send_signal(signal.SIGHUP)
        payload = "processname:web groupname:web from_state:RUNNING expected:0 pid:42"
        proc.stdin.write(_event("PROCESS_STATE_EXITED", payload, 1))
        proc.stdin.flush()
        assert proc.stdout.readline() == "RESULT 2\n"
        assert proc.stdout.read(len("OKREADY\n")) == "OKREADY\n"
        assert proc.poll() is None
    finally:
        proc.kill()
        _, err = proc.communicate(timeout=10)
    assert "configuration reloaded" in err


def test_events_wait_in_memory_while_the_state_database_is_full_and_are_recorded_after(
    tmp_path: Path,
) -> None:
    store = Store(tmp_path / "state")
    store.ensure()
    with store.connect() as db:  # a real SQLITE_FULL without filling the disk
        db.exec_driver_sql("CREATE TABLE ballast(x)")
        pages = db.exec_driver_sql("PRAGMA page_count").scalar_one()
        db.exec_driver_sql(f"PRAGMA max_page_count={pages}")
        db.exec_driver_sql("INSERT INTO ballast VALUES (zeroblob(3000))")  # the last free page
    crash = "processname:web groupname:web from_state:RUNNING expected:0 pid:{}"
    stream = "".join(_event("PROCESS_STATE_EXITED", crash.format(100 + i), i) for i in range(1, 40))
    out = io.StringIO()
    listener = Listener(store, "local", io.StringIO(stream), out)
    listener.run()
    assert out.getvalue() == "READY\n" + "RESULT 2\nOKREADY\n" * 39  # every event acknowledged
    assert listener.state_down is not None and "is full" in listener.state_down
    assert len(listener.held) > 0
    with store.connect() as db:
        db.exec_driver_sql("PRAGMA max_page_count=1000000")  # space again
    listener.stdin = io.StringIO(_event("TICK_60", "when:1700000000", 40))
    listener.run()
    with store.connect() as db:
        pids = list(db.execute(select(c.pid).order_by(c.id)).scalars())
    assert pids == [100 + i for i in range(1, 40)]  # none lost, in order
    assert listener.state_down is None
