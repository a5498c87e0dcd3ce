"""The ASGI app of `serve --http`: Slack's requests at POST /slack/events, GET /healthz and
GET /readyz.

Every request is checked in this order before Bolt sees it: body size (BodyLimit, 413),
Slack's signature on the raw bytes (401), then UTF-8 and the payload's JSON (400). Each
refusal is one short, rate-limited log line, never a traceback. Bolt dispatches on a thread
pool so a slow listener never blocks the event loop. At shutdown (SIGTERM: a rolling restart)
uvicorn stops accepting and finishes the requests it has; the lifespan's end then waits for the
commands already acked, so each still gets its answer before the process closes its services.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager

from slack_bolt import App, BoltRequest
from slack_bolt.adapter.starlette.handler import to_bolt_request, to_starlette_response
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from bot.slack.fastpath import RECEIVED_AT, acked_at_once, dispatch_after_ack
from bot.slack.signature import refusal
from bot.web.health import Health
from bot.web.limits import SLACK_MAX_BODY, BodyLimit
from bot.web.refusals import RefusalLog

EVENTS_PATH = "/slack/events"

log = logging.getLogger("supbot.slack")


def http_app(
    app: App,
    extra_routes: Sequence[BaseRoute] = (),
    *,
    signing_secret: str,
    health: Health | None = None,
) -> Starlette:
    """`extra_routes` adds the JSON API (/api/v1) next to /slack/events; `health` says
    what /readyz checks (nothing: always 200); /healthz is always 200 (liveness).

    Slash commands and button clicks get their 200 here, before Bolt runs: the early 200 and
    why Bolt checks the signature a second time are in bot/slack/fastpath.py.
    """
    if not signing_secret:
        raise ValueError("HTTP mode needs the signing secret")
    refusals = RefusalLog()
    workers = ThreadPoolExecutor(max_workers=32, thread_name_prefix="bolt-dispatch")

    async def events(request: Request) -> Response:
        received = time.time()  # when it was asked (bot/asked.py)
        try:
            body = await request.body()  # bounded by BodyLimit
        except ClientDisconnect:
            return Response(status_code=400)
        why = refusal(signing_secret, body, request.headers)
        if why is not None:
            refusals.note(401, EVENTS_PATH, why)
            return PlainTextResponse("Not signed by Slack.", status_code=401)
        if log.isEnabledFor(logging.DEBUG):  # with --workers: which process took what
            log.debug("Slack request taken by pid %d", os.getpid())
        bolt_request = _parse(request, body, refusals)
        if bolt_request is None:
            return PlainTextResponse("Malformed Slack request.", status_code=400)
        if acked_at_once(bolt_request.body):  # the early 200: see bot/slack/fastpath.py
            bolt_request.context[RECEIVED_AT] = received
            dispatch_after_ack(app, workers, bolt_request)
            return Response(status_code=200)
        bolt_response = await run_in_threadpool(app.dispatch, bolt_request)
        return to_starlette_response(bolt_response)

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        yield
        await run_in_threadpool(workers.shutdown, True)  # acked commands get their answer

    return Starlette(
        routes=[
            Route(EVENTS_PATH, events, methods=["POST"]),
            *(health or Health()).routes(),
            *extra_routes,
        ],
        middleware=[Middleware(BodyLimit, max_bytes=SLACK_MAX_BODY, refusals=refusals)],
        lifespan=lifespan,
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
