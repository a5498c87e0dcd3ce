"""The ASGI app of `serve --http`: Slack's requests at POST /slack/events, GET /healthz.

Every request is checked in this order before Bolt sees it: body size (BodyLimit, 413),
Slack's signature on the raw bytes (401), then UTF-8 and the payload's JSON (400). Each
refusal is one short, rate-limited log line, never a traceback. Bolt dispatches on a thread
pool so a slow listener never blocks the event loop.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from slack_bolt.request.payload_utils import is_block_actions, is_slash_command
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.slack.signature import refusal
from bot.web.health import Health
from bot.web.limits import SLACK_MAX_BODY, BodyLimit
from bot.web.refusals import RefusalLog

log = logging.getLogger("supbot.slack")

EVENTS_PATH = "/slack/events"


def http_app(
    app: App,
    extra_routes: Sequence[BaseRoute] = (),
    *,
    signing_secret: str,
    health: Health | None = None,
) -> Starlette:
    """`extra_routes` adds the JSON API (/api/v1) next to /slack/events; `health` says
    what /healthz checks (nothing: always 200).

    Slash commands and button clicks are always acked with an empty 200 by supbot's
    listeners, so once their signature is verified the 200 goes out at once and Bolt
    handles the request on a worker thread: an ack never waits behind other users' work.
    """
    if not signing_secret:
        raise ValueError("HTTP mode needs the signing secret")
    refusals = RefusalLog()
    workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt-dispatch")

    async def events(request: Request) -> Response:
        try:
            body = await request.body()  # bounded by BodyLimit
        except ClientDisconnect:
            return Response(status_code=400)
        why = refusal(signing_secret, body, request.headers)
        if why is not None:
            refusals.note(401, EVENTS_PATH, why)
            return PlainTextResponse("Not signed by Slack.", status_code=401)
        bolt_request = _parse(request, body, refusals)
        if bolt_request is None:
            return PlainTextResponse("Malformed Slack request.", status_code=400)
        if _acked_empty(bolt_request.body):
            future = asyncio.get_running_loop().run_in_executor(workers, app.dispatch, bolt_request)
            future.add_done_callback(_log_failure)
            return Response(status_code=200)
        bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    return Starlette(
        routes=[
            Route(EVENTS_PATH, events, methods=["POST"]),
            (health or Health()).route(),
            *extra_routes,
        ],
        middleware=[Middleware(BodyLimit, max_bytes=SLACK_MAX_BODY, refusals=refusals)],
    )


def _parse(request: Request, body: bytes, refusals: RefusalLog) -> BoltRequest | None:
    """Bolt's request (it decodes UTF-8 and the `payload` JSON); None when that fails."""
    try:
        return to_bolt_request(request, body)
    except UnicodeDecodeError:
        refusals.note(400, EVENTS_PATH, "signed body is not UTF-8")
    except (ValueError, TypeError, AttributeError):  # Bolt's parser assumes JSON objects
        refusals.note(400, EVENTS_PATH, "signed body is not a Slack payload (malformed JSON)")
    return None


def _acked_empty(body: dict[str, Any]) -> bool:
    return is_slash_command(body) or is_block_actions(body)


def _log_failure(future: asyncio.Future[Any]) -> None:
    if not future.cancelled() and future.exception() is not None:
        log.error("dispatching a Slack request failed", exc_info=future.exception())
