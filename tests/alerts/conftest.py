"""Alert fixtures: a real supervisord running `supbot listen` as its event listener, and a
loopback Slack Web API."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import errors
from bot.config import Settings, load_settings
from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from bot.state import Store
from bot.supervisor.client import NodeClient
from tests.alerts.fakeslack import FakeSlack
from tests.conftest import short_tmp, wait_until

PY = sys.executable
TOKEN = "xoxb-test-token"

# Cheap shell programs: a storm must not cost a Python interpreter per crash.
PROGRAMS = """
[program:crashy]
command=/bin/sh -c "echo 'connecting to db'; echo 'db connect failed password=hunter2' >&2; exit 3"
autostart=false
autorestart=false
startsecs=0

[program:once]
command=/bin/sh -c "if [ -e {root}/once.ran ]; then exec sleep 100000; fi; touch {root}/once.ran; echo 'first run fails' >&2; exit 4"
autostart=false
autorestart=unexpected
startsecs=0

[program:failing]
command=/bin/sh -c "echo 'bad config' >&2; exit 2"
autostart=false
startsecs=1
startretries=2

[program:steady]
command=/bin/sh -c "exec sleep 100000"
startsecs=0
"""


def listener_block(config: Path, slack_url: str, root: Path, buffer_size: int = 100) -> str:
    return f"""
[eventlistener:supbot]
command={PY} -m bot listen
events=PROCESS_STATE,TICK_60
buffer_size={buffer_size}
autorestart=true
environment=SUPBOT_CONFIG="{config}",SLACK_BOT_TOKEN="{TOKEN}",SLACK_API_URL="{slack_url}"
stderr_logfile={root}/listener.err
"""


@dataclass
class AlertEnv:
    sv: EmbeddedSupervisor
    slack: FakeSlack
    config: Path
    root: Path

    def settings(self) -> Settings:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": self.slack.url}
        return load_settings(str(self.config), env=env)

    def services(self) -> Services:
        return Services.build(self.settings())

    def store(self) -> Store:
        return Store(self.settings().storage.dir)

    def listener_log(self) -> str:
        path = self.root / "listener.err"
        return path.read_text(errors="replace") if path.exists() else ""

    def idle(self) -> bool:
        """Every recorded event handled and every outbox row sent."""
        with self.store().connect() as db:
            events = db.execute("SELECT COUNT(*) FROM alert_events WHERE processed=0").fetchone()[0]
            rows = db.execute(
                "SELECT COUNT(*) FROM alert_outbox WHERE status IN ('pending','claimed')"
            ).fetchone()[0]
        return events == 0 and rows == 0


def alert_toml(sv: EmbeddedSupervisor, send_from_listener: bool = True, extra: str = "") -> str:
    return f"""
[storage]
dir = "state"

[[nodes]]
name = "local"
url = "{sv.url}"
timeout = "3s"

[alerts]
channel = "C0ALERT"
send_from_listener = {"true" if send_from_listener else "false"}
{extra}

[[channels]]
id = "C0ALERT"
programs = ["*"]
viewers = ["*"]
operators = ["U0OPER"]
"""


MakeEnv = Callable[..., AlertEnv]


@pytest.fixture
def alert_env() -> Iterator[MakeEnv]:
    made: list[AlertEnv] = []

    def make(
        programs: str = PROGRAMS,
        listener: bool = True,
        send_from_listener: bool = True,
        extra_toml: str = "",
        script: list[tuple[int, dict[str, str]]] | None = None,
        buffer_size: int = 100,
    ) -> AlertEnv:
        root = short_tmp()
        slack = FakeSlack(script=list(script or [])).start()
        config = root / "supbot.toml"
        sv = EmbeddedSupervisor(root / "sv", programs.replace("{root}", str(root)))
        config.write_text(alert_toml(sv, send_from_listener, extra_toml))
        if listener:
            sv.extra = listener_block(config, slack.url, root, buffer_size)
        env = AlertEnv(sv, slack, config, root)
        made.append(env)
        sv.start()
        if listener:
            store = env.store()
            wait_until(lambda: store.last_heartbeat("listener:local") is not None, 15)
        return env

    yield make
    for env in made:
        env.sv.stop()
        env.slack.stop()


def start_crashing(client: NodeClient, name: str) -> None:
    """Start a program that exits at once. supervisord may already answer SPAWN_ERROR when it
    reaps the exit inside startProcess (a matter of timing): the crash happened either way."""
    with contextlib.suppress(errors.SpawnFailed):
        client.start(name, wait=False)
