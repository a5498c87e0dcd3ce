"""Socket Mode: a local WebSocket server stands in for Slack (apps.connections.open on the
fake Web API returns its ws:// URL); the real app acks the envelope and answers."""

from __future__ import annotations

import logging
import threading

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler

from bot.slack.app import build_bot
from bot.slack.serve import build_services, connect_with_backoff
from handlers.context import StaticServices
from tests.conftest import basic_toml, free_port, make_settings, wait_until
from tests.fakes.slack import FakeSlack
from tests.slack.harness import BOT_TOKEN, slack_env, socket_envelope


def test_socket_mode_acks_the_envelope_and_answers(supervisor, tmp_path, fake_slack: FakeSlack):
    response_url = fake_slack.response_url()
    envelope = socket_envelope("status", "U0VIEWER", response_url)
    socket = fake_slack.socket([envelope])
    env = {**slack_env(fake_slack), "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": "xapp-1-test"}
    services = build_services(make_settings(tmp_path, basic_toml(supervisor), env))
    bot = build_bot(StaticServices(services), services.settings.secrets, socket_mode=True)
    handler = SocketModeHandler(bot.app, "xapp-1-test")
    try:
        handler.connect()
        ack = socket.next()
        assert ack["envelope_id"] == envelope["envelope_id"]
        answer = fake_slack.wait_response(response_url, "worker_00")
        assert answer.body["response_type"] == "ephemeral"
        opened = fake_slack.of("apps.connections.open")[0]
        assert "xapp-1-test" in opened.headers.get("authorization", "")
    finally:
        handler.close()
        bot.close()
        services.close()


def test_socket_mode_keeps_retrying_while_slack_is_down_then_connects(
    supervisor, tmp_path, caplog: pytest.LogCaptureFixture
):
    slack_port = free_port()  # nothing listens here yet: Slack is down
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_APP_TOKEN": "xapp-1-test",
        "SLACK_API_URL": f"http://127.0.0.1:{slack_port}/api/",
    }
    services = build_services(make_settings(tmp_path, basic_toml(supervisor), env))
    bot = build_bot(StaticServices(services), services.settings.secrets, socket_mode=True)
    handler = SocketModeHandler(bot.app, "xapp-1-test")
    stop, connected = threading.Event(), []
    caplog.set_level(logging.INFO, logger="supbot.slack")
    worker = threading.Thread(
        target=lambda: connected.append(connect_with_backoff(handler.client, stop))
    )
    worker.start()
    fake = None
    try:
        wait_until(lambda: "Socket Mode connection failed" in caplog.text, 30)
        assert worker.is_alive()  # still trying, not given up
        fake = FakeSlack(port=slack_port).start()
        response_url = fake.response_url()
        socket = fake.socket([socket_envelope("status", "U0VIEWER", response_url, "e-1")])
        worker.join(90)
        assert connected == [True]
        assert socket.next()["envelope_id"] == "e-1"
        fake.wait_response(response_url, "worker_00")
        assert caplog.text.count("Socket Mode connection failed") == 1  # one line per outage
    finally:
        stop.set()
        worker.join(10)
        handler.close()
        bot.close()
        services.close()
        if fake is not None:
            fake.stop()  # and its socket
