"""Socket Mode: a local WebSocket server stands in for Slack (apps.connections.open on the
fake Web API returns its ws:// URL); the real app acks the envelope and answers."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Iterator
from urllib.parse import parse_qsl

import pytest
from slack_bolt.adapter.socket_mode import SocketModeHandler
from websockets.sync.server import ServerConnection, serve

from bot.slack.app import build_bot
from bot.slack.serve import build_services, connect_with_backoff
from handlers.context import StaticServices
from tests.conftest import basic_toml, free_port, make_settings, wait_until
from tests.slack.fake_slack import FakeSlack
from tests.slack.harness import BOT_TOKEN, PAYLOADS, slack_env


class FakeSocket:
    """Sends hello and the queued envelopes to whoever connects; records what comes back."""

    def __init__(self, envelopes: list[dict]) -> None:
        self.envelopes = envelopes
        self.received: queue.Queue[dict] = queue.Queue()
        self.server = serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, ws: ServerConnection) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {}}))
        for envelope in self.envelopes:
            ws.send(json.dumps(envelope))
        for message in ws:
            self.received.put(json.loads(message))

    def next(self, timeout: float = 10.0) -> dict:
        return self.received.get(timeout=timeout)


@pytest.fixture
def socket_envelope(fake_slack: FakeSlack) -> Iterator[tuple[dict, str]]:
    fields = dict(parse_qsl((PAYLOADS / "slash_command.txt").read_text().strip()))
    response_url = fake_slack.response_url()
    fields.update(text="status", user_id="U0VIEWER", response_url=response_url)
    yield (
        {
            "envelope_id": "57d6a792-4d35-4d0b-b6aa-3361493e1caf",
            "type": "slash_commands",
            "payload": fields,
            "accepts_response_payload": True,
        },
        response_url,
    )


def test_socket_mode_acks_the_envelope_and_answers(
    supervisor, tmp_path, fake_slack: FakeSlack, socket_envelope
):
    envelope, response_url = socket_envelope
    socket = FakeSocket([envelope])
    fake_slack.ws_url = socket.url
    env = {**slack_env(fake_slack), "SLACK_SIGNING_SECRET": "", "SLACK_APP_TOKEN": "xapp-1-test"}
    services = build_services(make_settings(tmp_path, basic_toml(supervisor), env))
    bot = build_bot(StaticServices(services), services.settings.secrets, socket_mode=True)
    handler = SocketModeHandler(bot.app, "xapp-1-test")
    try:
        handler.connect()
        ack = socket.next()
        assert ack["envelope_id"] == envelope["envelope_id"]
        path = "/" + response_url.split("/", 3)[3]
        answer = fake_slack.wait_call("response", "worker_00", where=lambda c: c.path == path)
        assert answer.body["response_type"] == "ephemeral"
        opened = fake_slack.of("apps.connections.open")[0]
        assert "xapp-1-test" in opened.headers.get("authorization", "")
    finally:
        handler.close()
        bot.close()
        services.close()
        socket.server.shutdown()


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
    fake = socket = None
    try:
        wait_until(lambda: "Socket Mode connection failed" in caplog.text, 30)
        assert worker.is_alive()  # still trying, not given up
        fake = FakeSlack(port=slack_port).start()
        response_url = fake.response_url()
        fields = dict(parse_qsl((PAYLOADS / "slash_command.txt").read_text().strip()))
        fields.update(text="status", user_id="U0VIEWER", response_url=response_url)
        envelope = {"envelope_id": "e-1", "type": "slash_commands", "payload": fields}
        socket = FakeSocket([envelope])
        fake.ws_url = socket.url
        worker.join(90)
        assert connected == [True]
        assert socket.next()["envelope_id"] == "e-1"
        fake.wait_call("response", "worker_00", where=lambda c: response_url.endswith(c.path))
        assert caplog.text.count("Socket Mode connection failed") == 1  # one line per outage
    finally:
        stop.set()
        worker.join(10)
        handler.close()
        bot.close()
        services.close()
        if socket is not None:
            socket.server.shutdown()
        if fake is not None:
            fake.stop()
