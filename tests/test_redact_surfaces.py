"""Secrets printed by real programs under a real supervisord never reach a user: not through the
Slack fake, the API or the CLI, and not when `tail --follow` reads them in pieces."""

from __future__ import annotations

import base64
import os
import random
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.embedded import EmbeddedSupervisor
from bot.slack.serve import build_services
from bot.supervisor.client import NodeClient
from tests.api.conftest import TOKENS, TOKENS_TOML, serve, stop
from tests.conftest import PY, basic_toml, make_settings, short_tmp, start_sample, wait_until
from tests.fakes.slack import FakeSlack
from tests.slack.harness import BOT_TOKEN, SECRET, Harness, slack_env

ROOT = Path(__file__).resolve().parent.parent
API_TOKEN = TOKENS["admin"]
KEY_BODY = [
    base64.b64encode(random.Random(9).randbytes(48)).decode() for _ in range(6)
]  # 64 base64 characters a line, as in a PEM file
HALF = 21  # BOT_TOKEN[:21] == "xoxb-17653672481-1987": the rest matches no pattern alone

# `bare` prints supbot's own secrets bare, where no pattern would recognise them. `pieces` writes
# a line whose secret is cut by a pause longer than a follow poll, then a private key whose lines
# come in three bursts.
PIECES = f"""
import sys, time
def say(text):
    sys.stdout.write(text)
    sys.stdout.flush()
body = {KEY_BODY!r}
while True:
    say("connecting with " + {BOT_TOKEN[:HALF]!r})
    time.sleep(1.6)
    say({BOT_TOKEN[HALF:]!r} + " now\\n")
    say("-----BEGIN RSA PRIVATE KEY-----\\n" + body[0] + "\\n" + body[1] + "\\n")
    time.sleep(1.6)
    say(body[2] + "\\n" + body[3] + "\\n")
    time.sleep(1.6)
    say(body[4] + "\\n" + body[5] + "\\n-----END RSA PRIVATE KEY-----\\nkey loaded\\n")
    time.sleep(0.5)
"""


@pytest.fixture(scope="module")
def sv() -> Iterator[EmbeddedSupervisor]:
    script = short_tmp() / "pieces.py"
    script.write_text(PIECES)
    programs = f"""
[program:bare]
command={PY} -u -c "import time;[(print('signing with {SECRET} api {API_TOKEN} ok', flush=True), time.sleep(0.3)) for i in range(100000)]"
startsecs=0

[program:pieces]
command={PY} -u {script}
startsecs=0
"""
    sup = start_sample(programs, running=2, http=True)
    client = NodeClient(sup.node())
    # RUNNING comes before the first line is written (startsecs=0): wait for the output itself
    wait_until(
        lambda: "signing with" in client.call("tailProcessStdoutLog", "bare:bare", 0, 4096)[0], 20
    )
    yield sup
    sup.stop()


def secret_fragments(text: str) -> list[str]:
    """Every 8-character piece of a secret that shows in `text` (none is allowed)."""
    secrets = [SECRET, API_TOKEN, BOT_TOKEN[HALF:], *KEY_BODY]
    return [s[i : i + 8] for s in secrets for i in range(len(s) - 7) if s[i : i + 8] in text]


def settings_env(fake: FakeSlack | None = None) -> dict[str, str]:
    env = (
        slack_env(fake) if fake else {"SLACK_SIGNING_SECRET": SECRET, "SLACK_BOT_TOKEN": BOT_TOKEN}
    )
    return {**env, "TOK_ADMIN": API_TOKEN, "TOK_DEPLOY": "d" * 20, "TOK_VIEWER": "v" * 20}


def toml(sv: EmbeddedSupervisor) -> str:
    tokens = TOKENS_TOML.split("[[api_tokens]]")[:4]  # admin, deploy, viewer
    return basic_toml(sv, "[[api_tokens]]".join(tokens))


@pytest.fixture
def harness(sv: EmbeddedSupervisor, tmp_path: Path) -> Iterator[Harness]:
    fake = FakeSlack().start()
    services = build_services(make_settings(tmp_path, toml(sv), settings_env(fake)))
    slack = Harness(fake, services, follow_interval=0.3, follow_duration=60)
    yield slack
    slack.close()
    services.close()
    fake.stop()


def test_a_bare_signing_secret_and_api_token_never_reach_slack(harness: Harness) -> None:
    answer = harness.slash("tail bare 20").wait_response(harness.fake, "signing with")
    assert "signing with [REDACTED] api [REDACTED] ok" in answer.text()
    assert secret_fragments(answer.text()) == []


def test_a_bare_signing_secret_and_api_token_never_reach_the_api(sv, tmp_path: Path) -> None:
    import requests

    services = build_services(make_settings(tmp_path, toml(sv), settings_env()))
    served = serve(services)
    try:
        headers = {"Authorization": f"Bearer {API_TOKEN}"}
        for path in ("/api/v1/processes/bare/logs?lines=20", "/api/v1/processes/bare"):
            answer = requests.get(served.base + path, headers=headers, timeout=30)
            assert answer.status_code == 200 and "signing with" in answer.text
            assert secret_fragments(answer.text) == []
    finally:
        stop(served)
        services.close()


def supbot_env(config: Path) -> dict[str, str]:
    return {**os.environ, **settings_env(), "SUPBOT_CONFIG": str(config), "PYTHONPATH": str(ROOT)}


def test_a_bare_signing_secret_and_api_token_never_reach_the_cli(sv, tmp_path: Path) -> None:
    config = tmp_path / "supbot.toml"
    config.write_text(toml(sv))
    for args in (["tail", "bare", "-n", "20"], ["tail", "bare", "--json"]):
        proc = subprocess.run(
            [sys.executable, "-m", "bot", *args],
            capture_output=True,
            text=True,
            env=supbot_env(config),
            cwd=tmp_path,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        assert "signing with" in proc.stdout and secret_fragments(proc.stdout) == []


def test_cli_tail_follow_never_shows_a_secret_written_across_polls(sv, tmp_path: Path) -> None:
    config = tmp_path / "supbot.toml"
    config.write_text(toml(sv))
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "tail", "pieces", "-f"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=supbot_env(config),
        cwd=tmp_path,
    )
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout or []), daemon=True)
    reader.start()
    try:  # two whole rounds: the secret line and the key block, each seen after a poll
        wait_until(lambda: "".join(lines).count("key loaded") >= 3, 40, interval=0.2)
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(10)
        reader.join(10)
    shown = "".join(lines)
    assert "connecting with [REDACTED] now" in shown
    assert "[REDACTED]\nkey loaded" in shown
    assert secret_fragments(shown) == []


def test_slack_follow_never_shows_a_secret_written_across_polls(harness: Harness) -> None:
    harness.slash("tail pieces 5 --follow")
    harness.fake.wait_call("chat.postMessage", "Following")

    def rounds() -> int:
        return sum(c.text().count("key loaded") for c in harness.fake.of("chat.update"))

    wait_until(lambda: rounds() >= 4, 40, interval=0.2)
    shown = "\n".join(c.text() for c in harness.fake.calls)
    assert "connecting with [REDACTED] now" in shown
    assert secret_fragments(shown) == []
