"""Alert fixtures: a real supervisord running `supbot listen` as its event listener, and a
loopback Slack Web API."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import errors
from bot.config import Settings
from bot.config_load import load_settings
from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from bot.state import Store
from bot.storage.alerts.store import AlertStore
from bot.supervisor.client import NodeClient
from tests.conftest import short_tmp, storage_settings, storage_toml, wait_until
from tests.fakes.slack import FakeSlack

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


def listener_block(
    config: Path, slack_url: str, root: Path, buffer_size: int = 100, env: str = ""
) -> str:
    return f"""
[eventlistener:supbot]
command={PY} -m bot listen
events=PROCESS_STATE,TICK_60
buffer_size={buffer_size}
autorestart=true
environment=SUPBOT_CONFIG="{config}",SLACK_BOT_TOKEN="{TOKEN}",SLACK_API_URL="{slack_url}"{env}
stderr_logfile={root}/listener.err
"""


@dataclass
class AlertEnv:
    sv: EmbeddedSupervisor
    slack: FakeSlack
    config: Path
    root: Path
    env: dict[str, str]  # more of the listener's environment (pager keys)
    _store: Store | None = None

    def settings(self) -> Settings:
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": self.slack.url, **self.env}
        return load_settings(str(self.config), env=env)

    def services(self) -> Services:
        return Services.build(self.settings())

    def store(self) -> Store:
        """The state the listener writes (one Store: a PostgreSQL pool is not made per call)."""
        if self._store is None:
            self._store = Store(self.settings().storage)
        return self._store

    def listener_log(self) -> str:
        path = self.root / "listener.err"
        return path.read_text(errors="replace") if path.exists() else ""

    def idle(self) -> bool:
        """Every recorded event handled and every outbox row sent."""
        alerts = AlertStore(self.store())
        return alerts.pending_events() == 0 and alerts.backlog() == 0


def alert_toml(
    sv: EmbeddedSupervisor,
    send_from_listener: bool = True,
    extra: str = "",
    storage: str = '[storage]\ndir = "state"\n',
) -> str:
    return f"""
{storage}
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


def engine_toml(engine: str, root: Path, request: pytest.FixtureRequest) -> str:
    return storage_toml(storage_settings(engine, root, request))


@pytest.fixture
def alert_env(request: pytest.FixtureRequest) -> Iterator[MakeEnv]:
    """`engine="postgresql"`: the state on a fresh database of the session's server."""
    made: list[AlertEnv] = []

    def make(
        programs: str = PROGRAMS,
        listener: bool = True,
        send_from_listener: bool = True,
        extra_toml: str = "",
        buffer_size: int = 100,
        engine: str = "sqlite",
        env: dict[str, str] | None = None,
    ) -> AlertEnv:
        root = short_tmp()
        slack = FakeSlack().start()
        config = root / "supbot.toml"
        sv = EmbeddedSupervisor(root / "sv", programs.replace("{root}", str(root)))
        storage = {} if engine == "sqlite" else {"storage": engine_toml(engine, root, request)}
        config.write_text(alert_toml(sv, send_from_listener, extra_toml, **storage))
        extra_env = env or {}
        if listener:
            more = "".join(f',{k}="{v}"' for k, v in extra_env.items())
            sv.extra = listener_block(config, slack.url, root, buffer_size, more)
        made_env = AlertEnv(sv, slack, config, root, extra_env)
        made.append(made_env)
        sv.start()
        if listener:
            store = made_env.store()
            wait_until(lambda: store.last_heartbeat("listener:local") is not None, 15)
        return made_env

    yield make
    for env in made:
        env.sv.stop()
        env.slack.stop()
        if env._store is not None:
            env._store.close()


def start_crashing(client: NodeClient, name: str) -> None:
    """Start a program that exits at once. supervisord may already answer SPAWN_ERROR when it
    reaps the exit inside startProcess (a matter of timing): the crash happened either way."""
    with contextlib.suppress(errors.SpawnFailed):
        client.start(name, wait=False)


def deliver(env: AlertEnv, *args: str) -> subprocess.Popen[str]:
    """`supbot alerts deliver` as its own process, as cron or an operator would run it."""
    environ = {
        **os.environ,
        "SUPBOT_CONFIG": str(env.config),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": env.slack.url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "alerts", "deliver", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    """Its exit status and stderr; killed (and the test failed) when it does not end."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"`alerts deliver` still running after {timeout}s") from None
    return proc.returncode, err
