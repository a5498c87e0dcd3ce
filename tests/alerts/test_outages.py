"""Long-running loops keep working while a dependency is down at start and when it returns:
the watcher with one node unreachable, the listener with Slack answering 503."""

from __future__ import annotations

import logging

import pytest

from bot.alerts.service import AlertsWorker
from bot.embedded import EmbeddedSupervisor
from bot.storage.alerts.store import AlertStore
from bot.supervisor.client import NodeClient
from tests.alerts.conftest import MakeEnv, start_crashing
from tests.conftest import short_tmp, wait_until


def test_a_node_down_at_start_is_logged_once_retried_and_the_others_are_watched(
    alert_env: MakeEnv, caplog: pytest.LogCaptureFixture
) -> None:
    ghost = EmbeddedSupervisor(short_tmp() / "ghost", "")  # not started yet
    extra = f'node_down_after = "1h"\n\n[[nodes]]\nname = "ghost"\nurl = "{ghost.url}"\n'
    env = alert_env(listener=False, extra_toml=extra)
    services = env.services()
    caplog.set_level(logging.INFO, logger="supbot.alerts")
    worker = AlertsWorker(services).start()  # a watcher thread per node
    try:
        start_crashing(NodeClient(env.sv.node()), "crashy:crashy")
        wait_until(lambda: env.slack.posts("C0ALERT"), 30)  # the healthy node is watched
        wait_until(lambda: worker.watchers["ghost"].watch.failures >= 3, 60)
        down = [r for r in caplog.records if "node ghost unreachable" in r.getMessage()]
        assert len(down) == 1, [r.getMessage() for r in down]
        ghost.start()
        wait_until(lambda: "node ghost is reachable again" in caplog.text, 60)
    finally:
        worker.stop()
        services.close()
        ghost.stop()


def test_the_listener_records_crashes_while_slack_is_down_and_sends_them_later(
    alert_env: MakeEnv,
) -> None:
    env = alert_env()
    env.slack.outage(503)
    client = NodeClient(env.sv.node())
    listener = client.process("supbot:supbot").pid
    start_crashing(client, "crashy:crashy")
    wait_until(lambda: len(env.slack.calls) >= 2, 30)  # tried, refused, tried again
    assert AlertStore(env.store()).open_incident_processes("local") == {"crashy:crashy"}
    env.slack.recover()
    wait_until(lambda: env.slack.posts("C0ALERT"), 60)
    assert client.process("supbot:supbot").pid == listener  # it never exited meanwhile
