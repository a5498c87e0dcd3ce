"""GET /metrics: Prometheus text format, behind the API's bearer tokens.

Any `[[api_tokens]]` token may scrape (viewer is enough) and sees the processes and jobs its
globs cover; without API tokens `/metrics` is off (404), like /api/v1.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.api.auth import authenticate
from bot.api.problems import ApiError, for_exception
from bot.metrics import render
from bot.services import Services

OFF = "/metrics is off: add an [[api_tokens]] entry to the configuration (Prometheus scrapes with its token)."


def metrics_route(source: Callable[[], Services]) -> Route:
    async def metrics(request: Request) -> Response:
        try:
            services = source()
            if not services.settings.api_tokens:
                raise ApiError(404, "not_found", OFF)
            access = authenticate(
                services.settings.api_tokens, request.headers.get("authorization")
            )
            body, content_type = await run_in_threadpool(render, services, access)
        except Exception as exc:  # each kind is mapped; anything unexpected is a logged 500
            return for_exception(exc)
        return Response(body, media_type=content_type)

    handler: Callable[[Request], Awaitable[Response]] = metrics
    return Route("/metrics", handler, methods=["GET"])
