"""`supbot agent --node NAME`: the long-running program on each app host that runs the jobs
and commands addressed to its node (a supervisord program next to `supbot listen`).

It needs only `[storage]` (the shared PostgreSQL), its `[[nodes]]` entry and the `[[jobs]]` /
`[[commands]]` it may run; no Slack token. SIGHUP re-reads the config; SIGTERM lets running
jobs finish for `--stop-grace`, as `supbot scheduler` does.
"""

from __future__ import annotations

import argparse
import logging
import os
from functools import partial

from bot.cli import CliCommand
from bot.durations import parse_duration

log = logging.getLogger("supbot.agent")


def _configure(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("agent", help="run the jobs and commands addressed to this node")
    p.add_argument("--node", help="which [[nodes]] entry this host is (default: guessed)")
    p.add_argument(
        "--stop-grace",
        default="30s",
        help="on SIGTERM, how long running jobs may finish before they are killed (default 30s)",
    )


def _run(args: argparse.Namespace) -> int:
    from bot.agent.commands import AgentCommands
    from bot.alerts.listener import node_name
    from bot.config_load import load_settings
    from bot.scheduler.runner import Runner
    from bot.services import Runtime, Services

    node = node_name(load_settings(args.config), args.node, dict(os.environ))
    runtime = Runtime(args.config, build=partial(Services.build, node=node))
    runtime.install_sighup()
    first = runtime.services
    agent = AgentCommands(first.settings, first.store, first.redactor, node)

    def serve() -> None:
        services = runtime.services  # after a SIGHUP: the allow-list of the new config
        agent.settings, agent.store, agent.redactor = (
            services.settings,
            services.store,
            services.redactor,
        )
        agent.serve()

    runner = Runner(lambda: runtime.services.jobs, parse_duration(args.stop_grace), node, serve)
    runner.install_signals()
    log.info("agent for node %s", node)
    return runner.run()


COMMANDS: dict[str, CliCommand] = {"agent": (_configure, _run)}
