"""`supbot serve`: Socket Mode when SLACK_APP_TOKEN is set, or `--http` under uvicorn.

HTTP mode serves Slack's requests at POST /slack/events, GET /healthz and /readyz
(bot/slack/web.py). Neither mode needs Slack to be up to start: auth.test (SlackLink) and the
Socket Mode connection are retried with backoff, and /readyz says what is down meanwhile.
Several replicas may serve one shared state: each beats `serve:<host>:<pid>` and runs the
alerts' singleton loops only while it holds their lease (bot/ha/).

`--http --workers N` answers on N worker processes sharing the port (bot/web/prefork.py), each
with its own Services on the shared state. The background loops (alerts: watcher, delivery,
digest, checks; audit retention) run once, in the parent, which answers no request.
"""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from slack_sdk.errors import SlackClientError

from bot.cli import CliCommand
from bot.config import Settings
from bot.services import Runtime, Services
from bot.slack.web import EVENTS_PATH, http_app

if TYPE_CHECKING:
    from slack_bolt import App
    from slack_sdk.socket_mode.client import BaseSocketModeClient

    from bot.web.health import Health

__all__ = ["EVENTS_PATH", "http_app", "run"]

log = logging.getLogger("supbot.slack")

FIRST_RETRY = 1.0
MAX_RETRY = 60.0
LOG_LEVELS = ("debug", "info", "warning", "error")


def configure(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the Slack bot (Socket Mode, or --http)")
    p.add_argument("--http", action="store_true", help="serve Slack's requests over HTTP")
    p.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to listen on")
    p.add_argument("--port", type=int, default=3000, help="HTTP mode: port (default 3000)")
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="HTTP mode: worker processes answering on the port (default 1: this process)",
    )
    p.add_argument(
        "--log-level",
        choices=LOG_LEVELS,
        default="info",
        help="supbot's own log lines (debug names the process that took each Slack request)",
    )


def usage_problem(args: argparse.Namespace) -> str | None:
    """Options that do not go together, in one sentence; None when they do."""
    if args.workers < 1:
        return f"--workers {args.workers}: give 1 or more worker processes."
    if args.workers > 1 and not args.http:
        return (
            "--workers needs --http: in Socket Mode each Slack connection is one process "
            "(run more `supbot serve` replicas instead)."
        )
    return None


def startup_problem(settings: Settings, http: bool) -> str | None:
    """Why serving cannot start, in one sentence; None when it can."""
    secrets = settings.secrets
    if not secrets.bot_token:
        return "SLACK_BOT_TOKEN is not set (the bot token xoxb-…, see README › Slack)."
    if http and not secrets.signing_secret:
        return (
            "SLACK_SIGNING_SECRET is not set: HTTP mode would accept forged requests. "
            "Set it (Basic Information › Signing Secret) or use Socket Mode."
        )
    if not http and not secrets.app_token:
        return (
            "SLACK_APP_TOKEN is not set: Socket Mode needs an app-level token (xapp-…, scope "
            "connections:write); or run `supbot serve --http`."
        )
    return None


def build_services(settings: Settings) -> Services:
    from bot.slack.client import make_web_client
    from bot.slack.usergroups import UserGroups

    groups = UserGroups(make_web_client(settings.secrets), settings.usergroup_ttl)
    return Services.build(settings, groups)


def run(args: argparse.Namespace) -> int:
    from bot.alerts.service import AlertsWorker
    from bot.audit_retention import AuditRetention
    from bot.ha.replica import ReplicaBeat

    logging.getLogger("supbot").setLevel(args.log_level.upper())
    problem = usage_problem(args)
    if problem:
        print(f"supbot serve: {problem}", file=sys.stderr)
        return 2
    runtime = Runtime(args.config, build_services)
    problem = startup_problem(runtime.settings, args.http)
    if problem:
        print(f"supbot serve: {problem}", file=sys.stderr)
        return 2
    # Bound before anything starts: a port in use fails here, once, not in every worker.
    try:
        sock = _bind(args) if args.workers > 1 else None
    except OSError as exc:
        print(f"supbot serve: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 2
    alerts = AlertsWorker(runtime.services).start()
    runtime.on_reload.append(alerts.restart_with)
    how = f"http {args.host}:{args.port}" if args.http else "socket mode"
    beat = ReplicaBeat(lambda: runtime.services.store, how, alerts.leads).start()
    retention = AuditRetention(runtime.services).start()
    runtime.on_reload.append(retention.restart_with)
    try:
        if sock is not None:
            _serve_workers(args, runtime, sock)
        else:
            runtime.install_sighup()
            signal.signal(signal.SIGTERM, _leave)
            _serve_here(args, runtime, leads=alerts.leads)
    finally:
        alerts.stop()
        beat.stop()
        retention.stop()
        runtime.services.close()
    return 0


def _leave(_signum: int, _frame: object) -> None:
    """SIGTERM (a rolling restart): leave through run()'s `finally`, which hands the leader
    lease over at once and marks this replica stopped. In HTTP mode uvicorn has first finished
    its requests and answered the acked commands, then raises the signal again to get here."""
    raise SystemExit(0)


def serve_worker(number: int, sock: socket.socket, parent: int, args: argparse.Namespace) -> None:
    """One worker of `--workers N` (a fresh interpreter): Slack and the API on the shared
    socket, with its own Services; no background loops (the parent runs them)."""
    from bot.web.prefork import exit_with_parent

    hangups: list[int] = []  # a SIGHUP before there is a Runtime: reloaded once there is one
    signal.signal(signal.SIGHUP, lambda signum, _: hangups.append(signum))
    logging.basicConfig(
        level=logging.INFO,
        format=f"%(asctime)s %(levelname)s %(name)s [worker {number}]: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("supbot").setLevel(args.log_level.upper())
    exit_with_parent(parent)
    runtime = Runtime(args.config, build_services)
    runtime.install_sighup()
    if hangups:
        runtime.reload_config()
    try:
        _serve_here(args, runtime, sock)
    finally:
        runtime.services.close()


def _bind(args: argparse.Namespace) -> socket.socket:
    from bot.web.prefork import listening_socket

    return listening_socket(args.host, args.port)


def _serve_workers(args: argparse.Namespace, runtime: Runtime, sock: socket.socket) -> None:
    from bot.web.prefork import WorkerPool

    log.info(
        "serving Slack over HTTP on %s:%d%s with %d worker processes",
        args.host,
        args.port,
        EVENTS_PATH,
        args.workers,
    )
    pool = WorkerPool(serve_worker, args.workers, sock, (args,))
    pool.run(threading.Event(), on_hangup=runtime.reload_config)


def _serve_here(
    args: argparse.Namespace,
    runtime: Runtime,
    sock: socket.socket | None = None,
    leads: Callable[[], list[str]] = list,
) -> None:
    """Answer Slack from this process: over HTTP (on `sock` when given) or Socket Mode.
    `leads`: the singleton loops this process runs (a worker runs none: its parent does)."""
    from bot.ha.replica import PREFIX
    from bot.ha.status import lease_detail
    from bot.slack.app import build_bot
    from bot.slack.link import SlackLink
    from bot.slack.live import UpdateBudget
    from bot.web.health import Health, nodes_check, state_check

    bot = build_bot(
        runtime,
        runtime.settings.secrets,
        socket_mode=not args.http,
        identity_dir=runtime.settings.storage.dir,
    )
    # chat.update's limit is the workspace's: each worker of each live replica gets its share
    workers = max(1, args.workers)
    bot.updates = UpdateBudget(shares=lambda: workers * runtime.services.store.live(PREFIX))
    link = SlackLink(bot.client).start()
    health = Health(
        link.down,
        state_check(runtime),
        notes=(nodes_check(runtime),),
        detail=lambda: lease_detail(runtime.services.store, leads()),
    )
    try:
        if args.http:
            _serve_http(args, runtime, bot.app, health, sock)
        else:
            _serve_socket_mode(runtime, bot.app, health)
    finally:
        link.stop()
        bot.close()


def _serve_http(
    args: argparse.Namespace,
    runtime: Runtime,
    app: App,
    health: Health,
    sock: socket.socket | None = None,
) -> None:
    from bot.api.app import api_routes
    from bot.web.server import server

    if sock is None:
        log.info("serving Slack over HTTP on %s:%d%s", args.host, args.port, EVENTS_PATH)
    secret = runtime.settings.secrets.signing_secret
    asgi = http_app(app, api_routes(runtime), signing_secret=secret, health=health)
    server(asgi, args.host, args.port).run(sockets=None if sock is None else [sock])


def _serve_socket_mode(runtime: Runtime, app: App, health: Health) -> None:
    from slack_bolt.adapter.socket_mode import SocketModeHandler

    if runtime.settings.api_listen:
        from bot.api.cli import start_api_server

        start_api_server(runtime, runtime.settings.api_listen, health)
    handler = SocketModeHandler(app, runtime.settings.secrets.app_token)
    connect_with_backoff(handler.client)
    threading.Event().wait()  # as SocketModeHandler.start(): the client's threads do the work


def connect_with_backoff(client: BaseSocketModeClient, stop: threading.Event | None = None) -> bool:
    """Open the Socket Mode connection, retrying with backoff while Slack is unreachable
    (once connected, slack-sdk's monitor reconnects by itself). False if stopped first."""
    from bot.slack.link import describe

    stop = stop or threading.Event()
    delay, last = FIRST_RETRY, ""
    log.info("connecting to Slack in Socket Mode")
    while not stop.is_set():
        try:
            client.connect_to_new_endpoint(force=True)
            log.info("connected to Slack in Socket Mode")
            return True
        except (SlackClientError, OSError) as exc:  # an outage: retried, never fatal
            reason = describe(exc)
            if reason != last:
                log.warning("Socket Mode connection failed: %s; retrying with backoff", reason)
            last = reason
        stop.wait(delay)
        delay = min(delay * 2, MAX_RETRY)
    return False


# The subcommands this module adds to `supbot` (bot/wiring.py loads them when named).
COMMANDS: dict[str, CliCommand] = {
    "serve": (configure, run),
}
