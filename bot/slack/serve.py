"""`supbot serve`: Socket Mode when SLACK_APP_TOKEN is set, or `--http` under uvicorn.

HTTP mode serves Slack's requests (commands, interactivity, events) at POST /slack/events and
a health check at GET /healthz, through Bolt's request dispatch on a thread pool so a slow
listener never blocks the event loop.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.payload_utils import is_block_actions, is_slash_command
from slack_sdk.signature import SignatureVerifier
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from bot import cli
from bot.config import Settings
from bot.services import Runtime, Services

log = logging.getLogger("supbot.slack")

EVENTS_PATH = "/slack/events"


def http_app(
    app: App, extra_routes: Sequence[BaseRoute] = (), signing_secret: str = ""
) -> Starlette:
    """The ASGI app for `serve --http` (and for tests, under uvicorn on an ephemeral port);
    `extra_routes` adds the JSON API (/api/v1) next to /slack/events.

    Slash commands and button clicks are always acked with an empty 200 by supbot's
    listeners, so once their signature is verified here (`signing_secret`) the 200 goes out
    at once and Bolt handles the request on a worker thread: an ack never waits behind other
    users' work for Bolt's middleware, thread hand-off and ack polling.
    """
    verifier = SignatureVerifier(signing_secret) if signing_secret else None
    workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt-dispatch")

    async def events(request: Request) -> Response:
        body = await request.body()
        bolt_request = to_bolt_request(request, body)
        if verifier is not None and _acked_empty(bolt_request.body):
            if not verifier.is_valid_request(body, dict(request.headers)):
                return Response(status_code=401)
            future = asyncio.get_running_loop().run_in_executor(workers, app.dispatch, bolt_request)
            future.add_done_callback(_log_failure)
            return Response(status_code=200)
        bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    async def healthz(_request: Request) -> Response:
        return JSONResponse({"ok": True})

    return Starlette(
        routes=[
            Route(EVENTS_PATH, events, methods=["POST"]),
            Route("/healthz", healthz, methods=["GET"]),
            *extra_routes,
        ]
    )


def _acked_empty(body: dict[str, Any]) -> bool:
    return is_slash_command(body) or is_block_actions(body)


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("dispatching a Slack request failed", exc_info=future.exception())


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
    from bot.slack.app import build_bot

    runtime = Runtime(args.config, build_services)
    problem = startup_problem(runtime.settings, args.http)
    if problem:
        print(f"supbot serve: {problem}", file=sys.stderr)
        return 2
    bot = build_bot(runtime, runtime.settings.secrets, socket_mode=not args.http)
    runtime.install_sighup()
    from bot.alerts.service import AlertsWorker

    alerts = AlertsWorker(runtime.services).start()
    runtime.on_reload.append(alerts.restart_with)
    try:
        if args.http:
            import uvicorn

            log.info("serving Slack over HTTP on %s:%d%s", args.host, args.port, EVENTS_PATH)
            from bot.api.app import api_routes

            secret = runtime.settings.secrets.signing_secret
            app = http_app(bot.app, api_routes(runtime), signing_secret=secret)
            uvicorn.run(app, host=args.host, port=args.port, log_level="info")
        else:
            from slack_bolt.adapter.socket_mode import SocketModeHandler

            if runtime.settings.api_listen:
                from bot.api.cli import start_api_server

                start_api_server(runtime, runtime.settings.api_listen)
            log.info("connecting to Slack in Socket Mode")
            SocketModeHandler(bot.app, runtime.settings.secrets.app_token).start()
    finally:
        alerts.stop()
        bot.close()
        runtime.services.close()
    return 0


cli.add_command("serve", configure, run)
