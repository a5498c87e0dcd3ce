"""A fleet of "hosts" on this machine: several supervisords, each with its own directory, config
file and `supbot listen`, sharing nothing but the session's PostgreSQL server. The bot reaches
each over HTTP on its own loopback address (127.0.0.2, .3, …): for supbot another host, where
psutil cannot see the processes."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.config_load import load_settings
from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from bot.supervisor.client import NodeClient
from tests.conftest import free_port, short_tmp, wait_until
from tests.fakes.slack import FakeSlack

PY = sys.executable
TOKEN = "xoxb-fleet"

PROGRAMS = """
[program:crashy]
command=/bin/sh -c "echo 'worker lost its queue' >&2; exit 3"
autostart=false
autorestart=false
startsecs=0

[program:steady]
command=/bin/sh -c "exec sleep 100000"
startsecs=0
"""


def host_toml(pg_url: str, root: Path, name: str, sv: EmbeddedSupervisor) -> str:
    """An app host's config: the state and its own node only — no Slack token, no other node."""
    return f"""
[storage]
dir = "{root}/state"
url = "{pg_url}"
auto_upgrade = true

[[nodes]]
name = "{name}"
url = "{sv.url}"

[alerts]
channel = "C0ALERT"
"""


def listener_block(config: Path, root: Path) -> str:
    return f"""
[eventlistener:supbot]
command={PY} -m bot listen
events=PROCESS_STATE,TICK_60
buffer_size=100
autorestart=true
environment=SUPBOT_CONFIG="{config}"
stderr_logfile={root}/listener.err
"""


@dataclass
class Host:
    name: str
    root: Path
    sv: EmbeddedSupervisor

    def client(self) -> NodeClient:
        """This host's own view of its supervisord (the unix socket)."""
        return NodeClient(self.sv.node(self.name))

    def listener_log(self) -> str:
        path = self.root / "listener.err"
        return path.read_text(errors="replace") if path.exists() else ""


@dataclass
class Fleet:
    hosts: list[Host]
    slack: FakeSlack
    services: Services  # the bot's: every node over HTTP, the Slack token

    def host(self, name: str) -> Host:
        return next(h for h in self.hosts if h.name == name)


def bot_toml(pg_url: str, root: Path, hosts: list[Host]) -> str:
    nodes = "".join(
        f'\n[[nodes]]\nname = "{h.name}"\nurl = "http://{h.sv.http_host}:{h.sv.http_port}"\n'
        f'username = "{h.sv.http_user}"\npassword_env = "SV_PASSWORD"\ntimeout = "5s"\n'
        for h in hosts
    )
    return f"""
[storage]
dir = "{root}/state"
url = "{pg_url}"
auto_upgrade = true
{nodes}
[alerts]
channel = "C0ALERT"

[[channels]]
id = "C0ALERT"
programs = ["*"]
viewers = ["*"]
operators = ["U0OPER"]

[console]
user = "U0OPER"
channel = "C0ALERT"
"""


@pytest.fixture
def fleet(pg_url: str) -> Iterator[Callable[[int], Fleet]]:
    """`fleet(3)`: hosts app1…app3 started, each listener's first heartbeat recorded."""
    made: list[Fleet] = []
    hosts: list[Host] = []

    def make(count: int) -> Fleet:
        for i in range(1, count + 1):
            root, name = short_tmp(), f"app{i}"
            sv = EmbeddedSupervisor(
                root / "sv", PROGRAMS, http_port=free_port(), http_host=f"127.0.0.{i + 1}"
            )
            config = root / "supbot.toml"
            config.write_text(host_toml(pg_url, root, name, sv))
            sv.extra = listener_block(config, root)
            hosts.append(Host(name, root, sv))
            sv.start()
        root, slack = short_tmp(), FakeSlack().start()
        config = root / "supbot.toml"
        config.write_text(bot_toml(pg_url, root, hosts))
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.url}
        env["SV_PASSWORD"] = hosts[0].sv.http_password
        made.append(Fleet(list(hosts), slack, Services.build(load_settings(str(config), env=env))))
        store = made[-1].services.store
        for host in hosts:
            beat = f"listener:{host.name}"
            wait_until(lambda b=beat: store.last_heartbeat(b) is not None, 20)
        return made[-1]

    yield make
    for host in hosts:
        host.sv.stop()
    for fleet in made:
        fleet.slack.stop()
        fleet.services.close()
        fleet.services.store.close()
