"""The watcher catches up from supervisord's own log: crashes logged while it was down are
counted once after it restarts, and a rotated or cleared log is read again from its tail."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.alerts.service import AlertsWorker
from bot.storage.tables import alert_incidents
from bot.supervisor.client import NodeClient
from tests.alerts.conftest import AlertEnv, MakeEnv, start_crashing
from tests.conftest import wait_until


def crash(env: AlertEnv, client: NodeClient) -> None:
    """One crash of `crashy`, once supervisord has logged it."""
    before = logged_exits(client)
    start_crashing(client, "crashy:crashy")
    wait_until(lambda: logged_exits(client) > before, 10)


c = alert_incidents.c


def logged_exits(client: NodeClient) -> int:
    return str(client.call("readLog", 0, 0)).count("exited: crashy (exit status 3; not expected)")


def crash_count(env: AlertEnv) -> int:
    with env.store().connect() as db:
        found = db.execute(select(c.crashes).where(c.process == "crashy:crashy")).scalar()
    return int(found or 0)


def test_crashes_while_the_watcher_was_down_are_counted_once_after_it_restarts(
    alert_env: MakeEnv,
) -> None:
    env = alert_env(listener=False)
    client = NodeClient(env.sv.node())
    services = env.services()
    first = AlertsWorker(services, watch=False).start()
    try:
        first.watchers["local"].poll_once()
        crash(env, client)
        first.watchers["local"].poll_once()  # seen live
        wait_until(lambda: crash_count(env) == 1, 10)
    finally:
        first.stop()  # as a kill -9 would: nothing of it in memory
    for _ in range(3):
        crash(env, client)  # nobody watching
    second = AlertsWorker(env.services(), watch=False).start()
    try:
        second.watchers["local"].poll_once()
        second.watchers["local"].poll_once()
        wait_until(env.idle, 15)
        assert crash_count(env) == 4
        (post,) = env.slack.posts("C0ALERT", top_level=True)
        assert "crashed 4×" in env.slack.messages()[post.ts].body["text"]
    finally:
        second.stop()
        services.close()


def test_a_cleared_log_is_read_again_from_its_tail_and_the_log_says_so(
    alert_env: MakeEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = alert_env(listener=False)
    client = NodeClient(env.sv.node())
    services = env.services()
    worker = AlertsWorker(services, watch=False).start()
    try:
        crash(env, client)
        worker.watchers["local"].poll_once()
        wait_until(lambda: crash_count(env) == 1, 10)
        client.call("clearLog")  # as a rotation would: shorter than the position read
        crash(env, client)
        with caplog.at_level(logging.WARNING, logger="supbot.alerts"):
            worker.watchers["local"].poll_once()
        assert "rotated or cleared" in caplog.text
        wait_until(lambda: crash_count(env) == 2, 10)
    finally:
        worker.stop()
        services.close()
