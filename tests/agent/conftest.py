"""A three-host fleet: three supervisords, each with its own directory, config file and
`supbot agent`, sharing nothing but a real PostgreSQL server; and the bot's own view of it."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from bot.agent.liveness import agent_seen
from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from bot.supervisor.client import NodeClient
from tests.conftest import make_settings, short_tmp, wait_until
from tests.fakes.slack import FakeSlack
from tests.slack.harness import Harness, slack_env

PY = sys.executable
ROOT = Path(__file__).resolve().parents[2]
NODES = ("app1", "app2", "app3")

CHANNELS = """
[[channels]]
id = "C0OPS"
jobs = ["*"]
commands = ["*"]
viewers = ["*"]
operators = ["U0OPER"]
"""


def marker_code(name: str) -> str:
    """Python appending `name` and its arguments to `marker` in the current directory."""
    return f'import sys; open("marker", "a").write("{name} " + " ".join(sys.argv[1:]) + "|")'


def argv(code: str) -> str:
    return f"['{PY}', '-u', '-c', '{code}']"


@dataclass
class Host:
    node: str
    dir: Path
    sv: EmbeddedSupervisor

    @property
    def marker(self) -> Path:
        return self.dir / "marker"

    def marks(self) -> list[str]:
        text = self.marker.read_text() if self.marker.exists() else ""
        return [m for m in text.split("|") if m]

    def agent_pid(self) -> int:
        info = NodeClient(self.sv.node()).process("agent")
        return int(info.pid)


@dataclass
class Fleet:
    hosts: dict[str, Host]
    bot: Services  # the bot's side: every node, the shared state

    def live(self, node: str) -> bool:
        return agent_seen(self.bot.store, node).live

    def kill_agent(self, node: str) -> None:
        os.kill(self.hosts[node].agent_pid(), signal.SIGKILL)


def host_toml(pg_url: str, directory: Path, nodes: str, extra: str) -> str:
    return (
        f'timezone = "UTC"\n[storage]\ndir = "{directory}/state"\nurl = "{pg_url}"\n'
        f"auto_upgrade = true\n{nodes}{extra}"
    )


def agent_block(config: Path, node: str, directory: Path, name: str = "agent") -> str:
    return f"""
[program:{name}]
command={PY} -m bot agent --node {node} --stop-grace 1s
directory={directory}
environment=SUPBOT_CONFIG="{config}",PYTHONPATH="{ROOT}"
autorestart=true
startsecs=0
stderr_logfile={directory}/agent.err
"""


MakeFleet = Callable[..., Fleet]


@pytest.fixture
def fleet(pg_url: str) -> Iterator[MakeFleet]:
    """`make(extra, agents=NODES, env=None, twins=())`: `extra` ([[jobs]], [[commands]]) in
    every host's config and the bot's; an agent runs on the hosts in `agents` (the others have
    none), two on those in `twins`; `env` (Slack's token, secret, API URL) for the bot."""
    started: list[EmbeddedSupervisor] = []
    bots: list[Services] = []

    def make(
        extra: str,
        agents: tuple[str, ...] = NODES,
        env: dict[str, str] | None = None,
        twins: tuple[str, ...] = (),
    ) -> Fleet:
        hosts: dict[str, Host] = {}
        for node in NODES:
            directory = short_tmp()
            config = directory / "supbot.toml"
            sv = EmbeddedSupervisor(directory / "sv", "", http_port=None)
            own = f'[[nodes]]\nname = "{node}"\nurl = "{sv.url}"\n'
            config.write_text(host_toml(pg_url, directory, own, extra))
            if node in agents:
                sv.programs = agent_block(config, node, directory)
            if node in twins:  # a second agent for the same node, as after a botched deploy
                sv.programs += agent_block(config, node, directory, "agent_twin")
            sv.start()
            started.append(sv)
            hosts[node] = Host(node, directory, sv)
        every = "".join(
            f'[[nodes]]\nname = "{h.node}"\nurl = "{h.sv.url}"\n' for h in hosts.values()
        )
        bot_dir = short_tmp()
        bot = Services.build(
            make_settings(bot_dir, host_toml(pg_url, bot_dir, every, extra + CHANNELS), env)
        )
        bots.append(bot)
        made = Fleet(hosts, bot)
        for node in agents:
            wait_until(lambda n=node: made.live(n), 30)
        return made

    yield make
    for sv in started:
        sv.stop()
    for bot in bots:
        bot.close()


SlackFleet = Callable[..., tuple[Fleet, Harness]]


@pytest.fixture
def slack_fleet(fleet: MakeFleet) -> Iterator[SlackFleet]:
    """`make(extra, **fleet options)` → the fleet and the real Bolt app over HTTP on its bot,
    Slack's Web API answered by a FakeSlack."""
    fake = FakeSlack().start()
    made: list[Harness] = []

    def make(extra: str, **options: object) -> tuple[Fleet, Harness]:
        f = fleet(extra, env=slack_env(fake), **options)
        made.append(Harness(fake, f.bot))
        return f, made[-1]

    yield make
    for harness in made:
        harness.close()
    fake.stop()


def children_gone(pid: int) -> bool:
    return not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
