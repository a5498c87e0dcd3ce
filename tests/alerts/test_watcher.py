"""The watcher: crashes seen by polling, alone and beside the listener."""

from __future__ import annotations

import threading

from sqlalchemy import func, select

from bot.alerts.service import AlertsWorker
from bot.state import Store
from bot.storage.tables import alert_events
from bot.supervisor.client import NodeClient
from tests.alerts.conftest import PROGRAMS, MakeEnv, start_crashing
from tests.conftest import wait_until

c = alert_events.c
BOUNCER = """
[program:bouncer]
command=/bin/sh -c "if [ -e {root}/bouncer.ran ]; then exec sleep 100000; fi; touch {root}/bouncer.ran; sleep 1; echo 'segfault-ish' >&2; exit 5"
autostart=false
autorestart=unexpected
startsecs=0
"""


def test_watcher_catches_a_crash_that_restarted_between_two_polls(alert_env: MakeEnv) -> None:
    env = alert_env(programs=PROGRAMS + BOUNCER, listener=False)
    services = env.services()
    worker = AlertsWorker(services, watch=False).start()
    try:
        client = NodeClient(env.sv.node())
        worker.watchers["local"].poll_once()
        client.start("bouncer:bouncer", wait=False)
        wait_until(lambda: client.process("bouncer:bouncer").state == "RUNNING", 10)
        first = client.process("bouncer:bouncer").pid
        worker.watchers["local"].poll_once()  # sees the first pid running
        wait_until(lambda: client.process("bouncer:bouncer").pid not in (0, first), 10)
        assert client.process("bouncer:bouncer").state == "RUNNING"
        worker.watchers["local"].poll_once()  # sees only a new pid, a new stop time, exit status 5
        wait_until(lambda: env.slack.posts("C0ALERT"), 10)
        wait_until(env.idle, 10)
        (post,) = env.slack.posts("C0ALERT")
        assert post.button_values()[0] == "restart bouncer@local"
        assert "5 (unexpected)" in str(post.body["blocks"])
    finally:
        worker.stop()
        services.close()


def test_listener_and_watcher_together_alert_once_per_crash(alert_env: MakeEnv) -> None:
    env = alert_env(send_from_listener=False)
    services = env.services()
    worker = AlertsWorker(services, watch=False, watch_everything=True).start()
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            worker.watchers["local"].poll_once()
            stop.wait(0.2)

    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        client = NodeClient(env.sv.node())
        for name in ("crashy:crashy", "once:once", "failing:failing"):
            start_crashing(client, name)
        wait_until(lambda: client.process("failing:failing").state == "FATAL", 20)
        wait_until(lambda: client.process("once:once").state == "RUNNING", 10)
        store = env.store()
        wait_until(lambda: _sources(store) >= {"listener", "watcher"}, 10)
        wait_until(env.idle, 15)
        stop.set()
        poller.join(5)
        wait_until(env.idle, 10)
        posts = env.slack.posts("C0ALERT", top_level=True)
        targets = sorted(p.button_values()[0] for p in posts)
        assert targets == ["restart crashy@local", "restart failing@local", "restart once@local"]
        with store.connect() as db:
            dups = db.execute(select(func.count()).where(c.outcome == "duplicate")).scalar_one()
        assert dups >= 1  # both detectors reported at least one exit; it alerted once
    finally:
        stop.set()
        worker.stop()
        services.close()


def _sources(store: Store) -> set[str]:
    crashes = c.state.in_(("EXITED", "BACKOFF", "FATAL"))
    with store.connect() as db:
        return set(db.execute(select(c.source).where(crashes).distinct()).scalars())


def test_a_stop_and_start_between_polls_is_not_a_crash(alert_env: MakeEnv) -> None:
    env = alert_env(listener=False)
    services = env.services()
    worker = AlertsWorker(services, watch=False).start()
    try:
        client = NodeClient(env.sv.node())
        worker.watchers["local"].poll_once()
        before = client.process("steady:steady").pid
        client.stop("steady:steady")  # as supervisorctl restart would, unseen by the watcher
        client.start("steady:steady", wait=False)
        wait_until(lambda: client.process("steady:steady").pid not in (0, before), 10)
        worker.watchers["local"].poll_once()
        with env.store().connect() as db:
            crashes = db.execute(select(func.count()).where(c.state == "EXITED")).scalar_one()
        assert crashes == 0  # supervisord's log said "stopped: steady"
        wait_until(env.idle, 5)
        assert env.slack.posts() == []
    finally:
        worker.stop()
        services.close()


def test_last_exit_reads_supervisord_log_lines() -> None:
    from bot.alerts.exitlog import last_exit

    log = (
        "2026-01-01 10:00:00,001 WARN exited: web (exit status 5; not expected)\n"
        "2026-01-01 10:00:01,001 INFO spawned: 'web' with pid 12\n"
        "2026-01-01 10:00:02,001 INFO stopped: web_2 (terminated by SIGTERM)\n"
    )
    web = last_exit(log, "web")
    assert web is not None and web.crash and web.exitstatus == 5
    other = last_exit(log, "web_2")
    assert other is not None and not other.crash
    assert last_exit(log, "api") is None
