"""A process action is planned once: one fresh fleet read resolves its targets, and a refusal
is audited once, where it is planned, whatever the surface that asked."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import requests

from bot.console import Console
from bot.embedded import EmbeddedSupervisor
from bot.services import Runtime, Services
from bot.slack.serve import build_services
from tests.api.conftest import serve, stop
from tests.conftest import basic_toml, make_settings
from tests.fakes.slack import FakeSlack
from tests.slack.harness import Harness, slack_env

VIEWER_TOKEN = "tok-viewer-0123456789"
TOKEN = """
[[api_tokens]]
name = "viewer"
token_env = "TOK_VIEWER"
role = "viewer"
programs = ["*"]
"""


@pytest.fixture
def fake() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


@pytest.fixture
def config(supervisor: EmbeddedSupervisor, tmp_path: Path) -> Path:
    # The console's user is a viewer here, so the console can be refused too.
    toml = basic_toml(supervisor, TOKEN).replace('user = "U0ADMIN"', 'user = "U0VIEW"')
    path = tmp_path / "supbot.toml"
    path.write_text(toml)
    return path


@pytest.fixture
def slack(config: Path, fake: FakeSlack) -> Iterator[Harness]:
    env = {**slack_env(fake), "TOK_VIEWER": VIEWER_TOKEN}
    harness = Harness(fake, build_services(make_settings(config.parent, config.read_text(), env)))
    yield harness
    harness.close()
    harness.services.close()


def refusals(services: Services) -> list[tuple[str, str, str]]:
    return [
        (e.surface, e.action, e.target) for e in services.audit.since() if e.outcome == "refused"
    ]


def fleet_reads(services: Services) -> Counter[str]:
    """Counts the XML-RPC calls supbot makes to each (real) supervisord from now on."""
    calls: Counter[str] = Counter()
    for client in services.fleet.clients.values():
        real = client.call

        def counted(method: str, *args: Any, _real: Any = real, **kw: Any) -> Any:
            calls[method] += 1
            return _real(method, *args, **kw)

        client.call = counted  # type: ignore[method-assign]
    return calls


def test_a_refused_restart_is_audited_once_whatever_the_surface(
    slack: Harness, config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    services = slack.services
    monkeypatch.setenv("TOK_VIEWER", VIEWER_TOKEN)  # the console's Runtime reads the config
    slash = slack.slash("restart idle", user="U0VIEW")
    slash.wait_response(slack.fake, "may not restart")
    click = slack.click("restart idle --yes", user="U0VIEW")
    click.wait_response(slack.fake, "may not restart")
    console = io.StringIO()
    runtime = Runtime(str(config), build=lambda _settings: services)
    Console(runtime, io.StringIO("restart idle --yes\nquit\n"), console).run()
    assert "may not restart" in console.getvalue()
    with api(services) as base:
        r = requests.post(f"{base}/processes/idle/restart", headers=bearer(), timeout=30)
        assert r.status_code == 403
    assert refusals(services) == [
        ("slash", "restart", "idle"),
        ("button", "restart", "idle"),
        ("console", "restart", "idle"),
        ("api", "restart", "idle"),
    ]


def test_one_restart_from_slack_reads_the_fleet_once(slack: Harness) -> None:
    calls = fleet_reads(slack.services)
    slack.slash("restart web", user="U0WEBOP", channel="C0WEB")  # not critical there: no confirm
    slack.fake.wait_call("chat.update", "Restarted by <@U0WEBOP>", timeout=30)
    # one fresh read resolves `web`; the restart itself is a stop, a start and a look after
    assert calls["getAllProcessInfo"] == 1
    assert (calls["stopProcess"], calls["startProcess"], calls["getProcessInfo"]) == (1, 1, 1)


def test_a_confirm_step_reads_the_fleet_once_and_changes_nothing(slack: Harness) -> None:
    calls = fleet_reads(slack.services)
    slack.slash("restart web").wait_response(slack.fake, "Restart 1 critical process?")
    assert calls["getAllProcessInfo"] == 1 and not calls["stopProcess"]


def test_a_cli_action_is_one_audit_row(slack: Harness, config: Path) -> None:
    """The CLI is admin over everything (whoever runs it can run supervisorctl): never refused,
    but it plans and acts the same way, so its action is on record once."""
    env = {**os.environ, "SUPBOT_CONFIG": str(config), "TOK_VIEWER": VIEWER_TOKEN}
    argv = [sys.executable, "-m", "bot", "start", "idle", "--yes"]
    proc = subprocess.run(argv, capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [(e.surface, e.action, e.target, e.outcome) for e in slack.services.audit.since()]
    assert rows == [("cli", "start", "idle@local", "ok")]


def bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {VIEWER_TOKEN}"}


@contextmanager
def api(services: Services) -> Iterator[str]:
    """The API served by real uvicorn while the block runs; yields its base URL."""
    served = serve(services)
    try:
        yield served.base + "/api/v1"
    finally:
        stop(served)
