"""`supbot listen` (the supervisor event listener) and `supbot alerts …` (deliver, digest)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import threading
import time
from typing import TYPE_CHECKING

from bot.cli import CliCommand

if TYPE_CHECKING:
    from bot.alerts.service import AlertsWorker
    from bot.services import Services

log = logging.getLogger("supbot.listen")


def _configure_listen(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("listen", help="supervisor event listener (run it from [eventlistener:x])")
    p.add_argument("--node", help="which [[nodes]] entry this supervisord is (default: guessed)")


def _run_listen(args: argparse.Namespace) -> int:
    from bot.alerts.listener import Listener, node_name, protocol_streams
    from bot.services import Runtime

    stdin, stdout = protocol_streams()  # first: nothing may reach the real stdout but protocol
    runtime = Runtime(args.config)
    # SIGHUP must re-read the config, not kill the listener (its default action is to exit).
    runtime.install_sighup()
    services = runtime.services
    settings = services.settings  # the listener checks the state first (and holds events)
    node = node_name(settings, args.node, dict(os.environ))
    worker = None
    if settings.alerts.send_from_listener and settings.secrets.bot_token:
        from bot.alerts.service import AlertsWorker

        worker = AlertsWorker(services, watch=False).start()
        log.info("listener on %s: delivering alerts itself", node)
    elif settings.alerts.send_from_listener:
        log.warning("[alerts] send_from_listener is on but SLACK_BOT_TOKEN is not set")
    wake = worker.wake.set if worker else (lambda: None)
    stop = threading.Event()
    _sample(services, node, dict(os.environ), stop)
    Listener(services.store, node, stdin, stdout, wake).run()
    stop.set()
    if worker:
        worker.stop()
    return 0


def _sample(services: Services, node: str, env: dict[str, str], stop: threading.Event) -> None:
    """Memory and CPU of this supervisord's processes, every 10 s, into the state (bot/samples.py):
    the listener runs on the node's host, where psutil sees them. Through the configured node,
    else the supervisord that started us."""
    from bot.config import NodeSettings
    from bot.samples import SampleLoop
    from bot.supervisor.client import NodeClient

    if node in services.fleet.clients:
        client = services.fleet.client(node)
    elif env.get("SUPERVISOR_SERVER_URL"):
        client = NodeClient(NodeSettings(node, env["SUPERVISOR_SERVER_URL"]))
    else:
        log.warning("no [[nodes]] entry for %s: its memory and CPU are not sampled", node)
        return
    SampleLoop(services.store, node, client).start(stop)


def _configure_alerts(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("alerts", help="crash alerts: deliver the outbox, post a digest")
    p.add_argument("action", choices=("deliver", "digest", "status"))
    p.add_argument("--since", default="24h", help="digest: the period to cover (default 24h)")
    p.add_argument(
        "--deadline",
        default="5m",
        help="deliver: give up after this long, leaving the rest for later (default 5m)",
    )


def _run_alerts(args: argparse.Namespace) -> int:
    from bot.alerts import digest
    from bot.alerts.routing import router
    from bot.alerts.service import AlertsWorker
    from bot.durations import parse_duration
    from bot.services import Runtime
    from bot.storage.alerts.store import AlertStore

    services = Runtime(args.config).services
    services.store.ensure()  # a state that is unreachable or too old: say so and stop
    alerts = AlertStore(services.store)
    if args.action == "status":
        backlog = alerts.backlog()
        print(f"{backlog} alert message(s) waiting to be sent")
        return 0
    if args.action == "digest":
        n = digest.post(
            services, router(services.settings), time.time() - parse_duration(args.since)
        )
        print(f"digest queued for {n} channel(s); `supbot alerts deliver` or serve sends it")
        return 0
    if not services.settings.secrets.bot_token:
        print("supbot: SLACK_BOT_TOKEN is not set; nothing can be delivered", file=sys.stderr)
        return 2
    return _deliver(AlertsWorker(services, watch=False), parse_duration(args.deadline))


def _deliver(worker: AlertsWorker, deadline: float) -> int:
    """Send until nothing can move; a refusal no retry fixes stops it with what to fix."""
    alerts, ends = worker.alerts, time.monotonic() + deadline
    deliverer = worker.delivery.deliverer
    assert deliverer is not None  # a bot token is set
    try:
        while True:
            wait = worker.step()  # first: queues audit lines and handles recorded events
            if not alerts.backlog(held=False) or "token" in deliverer.problems:
                break
            if time.monotonic() > ends:
                break
            time.sleep(min(wait, 0.5))
    finally:
        worker.stop()
    left = alerts.backlog()
    for problem in deliverer.problems.values():
        print(f"supbot alerts deliver: {problem.hint}", file=sys.stderr)
    if left:
        why = "Slack refused them" if deliverer.problems else "the deadline passed"
        print(
            f"supbot alerts deliver: {left} message(s) left for later ({why}); run it again "
            "or let serve send them",
            file=sys.stderr,
        )
        return 1
    return 0


def _configure_deploy(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("deploy", help="record a deploy (shown on the next incidents)")
    p.add_argument("what", help="the program, group or glob deployed (optionally @node)")
    p.add_argument("version")
    p.add_argument("--by", default="", help="who or what deployed (default: nobody named)")


def _run_deploy(args: argparse.Namespace) -> int:
    import getpass

    from bot.alerts.deploys import DeployService
    from bot.auth import Authorizer
    from bot.services import Runtime

    services = Runtime(args.config).services
    access = Authorizer.local_admin(getpass.getuser())
    done = DeployService(services.store, services.processes, services.audit).record(
        access, args.what, args.version, args.by
    )
    print(f"deploy {done.id} recorded: {done.what} {done.version}")
    return 0


# The subcommands this module adds to `supbot` (bot/wiring.py loads them when named).
COMMANDS: dict[str, CliCommand] = {
    "listen": (_configure_listen, _run_listen),
    "alerts": (_configure_alerts, _run_alerts),
    "deploy": (_configure_deploy, _run_deploy),
}
