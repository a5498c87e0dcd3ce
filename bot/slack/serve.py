"""`supbot serve`: Socket Mode when SLACK_APP_TOKEN is set, or `--http` under uvicorn.

HTTP mode serves Slack's requests at POST /slack/events, GET /healthz and /readyz
(bot/slack/web.py). Neither mode needs Slack to be up to start: auth.test (SlackLink) and the
Socket Mode connection are retried with backoff, and /readyz says what is down meanwhile.
Several replicas may serve one shared state: each beats `serve:<host>:<pid>` and runs the
alerts' singleton loops only while it holds their lease (bot/ha/).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
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


def configure(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="run the Slack bot (Socket Mode, or --http)")
    p.add_argument("--http", action="store_true", help="serve Slack's requests over HTTP")
    p.add_argument("--host", default="0.0.0.0", help="HTTP mode: address to listen on")
    p.add_argument("--port", type=int, default=3000, help="HTTP mode: port (default 3000)")


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
    from bot.ha.status import lease_detail
    from bot.slack.app import build_bot
    from bot.slack.link import SlackLink
    from bot.web.health import Health, nodes_check, state_check

    runtime = Runtime(args.config, build_services)
    problem = startup_problem(runtime.settings, args.http)
    if problem:
        print(f"supbot serve: {problem}", file=sys.stderr)
        return 2
    bot = build_bot(runtime, runtime.settings.secrets, socket_mode=not args.http)
    runtime.install_sighup()
    link = SlackLink(bot.client).start()
    alerts = AlertsWorker(runtime.services).start()
    runtime.on_reload.append(alerts.restart_with)
    health = Health(
        link.down,
        state_check(runtime),
        notes=(nodes_check(runtime),),
        detail=lambda: lease_detail(runtime.services.store, alerts.leads()),
    )
    how = f"http {args.host}:{args.port}" if args.http else "socket mode"
    beat = ReplicaBeat(lambda: runtime.services.store, how, alerts.leads).start()
    retention = AuditRetention(runtime.services).start()
    runtime.on_reload.append(retention.restart_with)
    signal.signal(signal.SIGTERM, _leave)
    try:
        if args.http:
            _serve_http(args, runtime, bot.app, health)
        else:
            _serve_socket_mode(runtime, bot.app, health)
    finally:
        link.stop()
        alerts.stop()
        beat.stop()
        retention.stop()
        bot.close()
        runtime.services.close()
    return 0


def _leave(_signum: int, _frame: object) -> None:
    """SIGTERM (a rolling restart): leave through run()'s `finally`, which hands the leader
    lease over at once and marks this replica stopped. In HTTP mode uvicorn has first finished
    its requests and answered the acked commands, then raises the signal again to get here."""
    raise SystemExit(0)


def _serve_http(args: argparse.Namespace, runtime: Runtime, app: App, health: Health) -> None:
    from bot.api.app import api_routes
    from bot.web.server import server

    log.info("serving Slack over HTTP on %s:%d%s", args.host, args.port, EVENTS_PATH)
    secret = runtime.settings.secrets.signing_secret
    asgi = http_app(app, api_routes(runtime), signing_secret=secret, health=health)
    server(asgi, args.host, args.port).run()


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
