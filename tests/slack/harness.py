"""Signed Slack requests (built from tests/payloads/) sent over real HTTP to the real Bolt app,
served by uvicorn on an ephemeral port; the Web API and response_url answered by FakeSlack."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any
from urllib.parse import parse_qsl, urlencode

import uvicorn
from slack_sdk.signature import SignatureVerifier

from bot.alerts.service import AlertsWorker
from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from bot.slack.app import build_bot
from bot.slack.serve import http_app
from handlers.context import SlackBot, StaticServices
from tests.conftest import free_port
from tests.fakes.slack import Call, FakeSlack

ROOT = Path(__file__).resolve().parents[2]
PAYLOADS = ROOT / "tests" / "payloads"
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"
BOT_TOKEN = "xoxb-17653672481-19874698323-pdFZKVeTuE8sk7oOcBrzbqgy"


def slack_env(fake: FakeSlack) -> dict[str, str]:
    return {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_API_URL": fake.url,
    }


def slash_body(text: str, user: str, channel: str, response_url: str) -> str:
    fields = dict(parse_qsl((PAYLOADS / "slash_command.txt").read_text().strip()))
    fields.update(text=text, user_id=user, channel_id=channel, response_url=response_url)
    return urlencode(fields)


def click_payload(
    value: str,
    user: str,
    channel: str,
    response_url: str,
    ephemeral: bool = True,
    action_id: str = "sup_cmd:act_0",
) -> dict[str, Any]:
    """A click on a message's button: an ephemeral one (no `message`) or one in the channel."""
    name = "block_actions_ephemeral.json" if ephemeral else "block_actions_message.json"
    payload: dict[str, Any] = json.loads((PAYLOADS / name).read_text())
    payload["user"]["id"] = user
    payload["channel"]["id"] = channel
    payload["container"]["channel_id"] = channel
    payload["response_url"] = response_url
    payload["actions"][0].update(value=value, action_id=action_id)
    return payload


def home_click_payload(value: str, user: str) -> dict[str, Any]:
    """A click on the App Home tab: a view container, no channel and no response_url."""
    payload: dict[str, Any] = json.loads((PAYLOADS / "block_actions_home.json").read_text())
    payload["user"]["id"] = user
    payload["actions"][0]["value"] = value
    return payload


def home_opened_body(user: str, event_id: str) -> str:
    envelope = json.loads((PAYLOADS / "app_home_opened.json").read_text())
    envelope["event"]["user"] = user
    envelope["event_id"] = event_id
    return json.dumps(envelope)


def socket_envelope(
    text: str, user: str, response_url: str, envelope_id: str = ""
) -> dict[str, Any]:
    """A slash command as Socket Mode delivers it: an envelope around the command's fields."""
    envelope: dict[str, Any] = json.loads((PAYLOADS / "socket_mode_slash_command.json").read_text())
    envelope["payload"].update(text=text, user_id=user, response_url=response_url)
    if envelope_id:
        envelope["envelope_id"] = envelope_id
    return envelope


def signed_headers(body: str, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    ts = str(int(time.time()) if timestamp is None else timestamp)
    signature = SignatureVerifier(secret).generate_signature(timestamp=ts, body=body)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}


def post_slash(
    base: str, fake: FakeSlack, text: str, user: str = "U0OPER", secret: str = SECRET
) -> str:
    """A signed `/sup text` from C0OPS to a served bot at `base`, acked 200; returns the
    response_url path its answer goes to (FakeSlack records it under that path)."""
    response_url = fake.response_url()
    body = slash_body(text, user, "C0OPS", response_url)
    headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body, secret)}
    request = urllib.request.Request(base + "/slack/events", body.encode(), headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return "/" + response_url.split("/", 3)[3]


@dataclass
class Sent:
    status: int
    seconds: float
    body: str
    response_url: str = ""

    def responses(self, fake: FakeSlack) -> list[Call]:
        return fake.responses(self.response_url)

    def wait_response(self, fake: FakeSlack, contains: str = "", timeout: float = 15.0) -> Call:
        return fake.wait_response(self.response_url, contains, timeout)


class Harness:
    """The real app over HTTP; `slash`, `click` and `home_opened` send signed requests."""

    def __init__(self, fake: FakeSlack, services: Services, **bot_options: Any) -> None:
        self.fake = fake
        self.services = services
        self.supervisor: EmbeddedSupervisor | None = None  # set by fixtures that own one
        self.bot: SlackBot = build_bot(
            StaticServices(services), services.settings.secrets, **bot_options
        )
        self.port = free_port()
        config = uvicorn.Config(
            http_app(self.bot.app, signing_secret=services.settings.secrets.signing_secret),
            host="127.0.0.1",
            port=self.port,
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("uvicorn did not start")
            time.sleep(0.01)
        self.url = f"http://127.0.0.1:{self.port}/slack/events"
        # serve's sender of audit-channel lines (they go through the alerts outbox)
        self.audit_sender: AlertsWorker | None = None
        if services.settings.audit_channel:
            self.audit_sender = AlertsWorker(services, watch=False)
            self.audit_sender.step()  # places the channel's cursor: later actions are posted
            self.audit_sender.start()

    def close(self) -> None:
        if self.audit_sender is not None:
            self.audit_sender.stop()
        self.server.should_exit = True
        self.thread.join(10)
        self.bot.close()

    def send(self, body: str, content_type: str, headers: dict[str, str] | None = None) -> Sent:
        headers = {"Content-Type": content_type, **(headers or signed_headers(body))}
        request = urllib.request.Request(self.url, body.encode(), headers, method="POST")
        started = time.monotonic()
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, text = response.status, response.read().decode()
        except urllib.error.HTTPError as exc:
            status, text = exc.code, exc.read().decode()
        return Sent(status, time.monotonic() - started, text)

    def slash(self, text: str, user: str = "U0OPER", channel: str = "C0OPS") -> Sent:
        url = self.fake.response_url()
        body = slash_body(text, user, channel, url)
        sent = self.send(body, "application/x-www-form-urlencoded")
        sent.response_url = url
        return sent

    def click(
        self,
        value: str,
        user: str = "U0OPER",
        channel: str = "C0OPS",
        ephemeral: bool = True,
        action_id: str = "sup_cmd:act_0",
    ) -> Sent:
        url = self.fake.response_url()
        payload = click_payload(value, user, channel, url, ephemeral, action_id)
        return self.send_payload(payload, url)

    def home_click(self, value: str, user: str) -> Sent:
        return self.send_payload(home_click_payload(value, user), "")

    def send_payload(self, payload: dict[str, Any], url: str) -> Sent:
        body = urlencode({"payload": json.dumps(payload)})
        sent = self.send(body, "application/x-www-form-urlencoded")
        sent.response_url = url
        return sent

    def home_opened(self, user: str, event_id: str = "Ev0HOME001") -> Sent:
        return self.send(home_opened_body(user, event_id), "application/json")

    def healthz(self) -> int:
        url = f"http://127.0.0.1:{self.port}/healthz"
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)


def serve(
    tmp_path: Path, env: dict[str, str], *args: str, log: IO[str] | None = None
) -> subprocess.Popen[str]:
    """`supbot serve ARGS` in tmp_path (its supbot.toml); stderr to `log` when given."""
    full = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
    full.update(env, SUPBOT_CONFIG=str(tmp_path / "supbot.toml"), PYTHONPATH=str(ROOT))
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "serve", *args],
        cwd=tmp_path,
        env=full,
        stdout=subprocess.PIPE,
        stderr=log or subprocess.PIPE,
        text=True,
    )
