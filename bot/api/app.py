"""The API's Starlette app: routes under /api/v1, bearer auth, JSON errors.

Mount it next to /slack/events with `api_routes(runtime)`, or serve `api_app(runtime)` alone.
Services are looked up on every request, so a SIGHUP reload (new tokens) applies at once.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from bot.api import (
    admin_routes,
    incident_routes,
    params,
    process_routes,
    scheduled_routes,
    silence_routes,
)
from bot.api.auth import authenticate
from bot.api.metrics_route import metrics_route
from bot.api.openapi import document
from bot.api.problems import ApiError, for_exception, problem
from bot.auth import Access
from bot.services import Runtime, Services
from bot.web.health import Health
from bot.web.limits import BodyLimit
from bot.web.refusals import RefusalLog

ServicesSource = Callable[[], Services]
Handler = Callable[[Request, Services, Access], Awaitable[Response]]

OFF = "The API is off: add an [[api_tokens]] entry to the configuration to turn it on."


def services_source(source: Runtime | Services | ServicesSource) -> ServicesSource:
    """Always the current Services: a Runtime swaps them on SIGHUP."""
    if isinstance(source, Services):
        return lambda: source
    if isinstance(source, Runtime):
        return lambda: source.services
    return source


def _current(source: ServicesSource) -> Services:
    services = source()
    if not services.settings.api_tokens:
        raise ApiError(404, "not_found", OFF)
    return services


def _endpoint(
    source: ServicesSource, handler: Handler, query: tuple[str, ...]
) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, check the query, run the handler; every exception becomes a JSON error."""

    async def endpoint(request: Request) -> Response:
        try:
            services = _current(source)
            access = authenticate(
                services.settings.api_tokens, request.headers.get("authorization")
            )
            params.only(request, query)
            return await handler(request, services, access)
        except Exception as exc:  # each kind is mapped; anything unexpected is a logged 500
            return for_exception(exc)

    return endpoint


def _openapi(source: ServicesSource) -> Callable[[Request], Awaitable[Response]]:
    """The document is public (tools fetch it before they hold a token) while the API is on."""

    async def endpoint(request: Request) -> Response:
        try:
            _current(source)
        except ApiError as exc:
            return for_exception(exc)
        return JSONResponse(document())

    return endpoint


def _inner_app(source: ServicesSource) -> Starlette:
    def route(path: str, handler: Handler, method: str, *query: str) -> Route:
        return Route(path, _endpoint(source, handler, query), methods=[method])

    routes = [
        route("/v1/processes", process_routes.list_processes, "GET", "pattern", "fresh"),
        route("/v1/processes/{name}", process_routes.get_process, "GET"),
        route(
            "/v1/processes/{name}/logs",
            process_routes.process_logs,
            "GET",
            *("lines", "stream", "grep", "i", "context"),
        ),
        *(
            route(f"/v1/processes/{{name}}/{action}", process_routes.act_on_process(action), "POST")
            for action in process_routes.API_ACTIONS
        ),
        route("/v1/reload", admin_routes.reload, "POST", "dry_run"),
        route("/v1/audit", admin_routes.audit, "GET", "since", "limit"),
        route("/v1/incidents", incident_routes.list_incidents, "GET"),
        route("/v1/incidents/{id}/ack", incident_routes.ack, "POST"),
        route("/v1/incidents/{id}/resolve", incident_routes.resolve, "POST"),
        # One route for both methods, so a 405 names them both in `Allow`.
        Route(
            "/v1/silences", _endpoint(source, silence_routes.silences, ()), methods=["GET", "POST"]
        ),
        route("/v1/silences/{id}", silence_routes.delete_silence, "DELETE"),
        route("/v1/deploys", silence_routes.create_deploy, "POST"),
        route("/v1/jobs", scheduled_routes.list_jobs, "GET"),
        route("/v1/jobs/{name}/runs", scheduled_routes.job_runs, "GET", "limit"),
        route("/v1/jobs/{name}/run", scheduled_routes.run_job, "POST", "wait"),
        route("/v1/schedule/run", scheduled_routes.run_schedule, "POST"),
        route("/v1/schedule/run/{node}", scheduled_routes.run_laravel_schedule, "POST"),
        route("/v1/laravel/tasks/{name}/run", scheduled_routes.run_laravel_task, "POST"),
        route("/v1/commands", scheduled_routes.list_commands, "GET"),
        route("/v1/commands/{name}/run", scheduled_routes.run_command, "POST"),
        Route("/v1/openapi.json", _openapi(source), methods=["GET"]),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        try:
            _current(source)
        except ApiError as off:
            return for_exception(off)
        if isinstance(exc, HTTPException) and exc.status_code == 405:
            detail = f"{request.method} is not allowed here."
            return problem(405, "method_not_allowed", detail, headers=exc.headers)
        return problem(404, "not_found", "No such endpoint; see /api/v1/openapi.json.")

    return Starlette(routes=routes, exception_handlers={HTTPException: http_error})


class _ApiMount(Mount):
    """Mount's pattern ends in `.*`, which stops at a newline: a name holding an encoded
    newline (%0A) would fall through to the host app's plain-text 404. DOTALL keeps every
    /api/… request ours, answered in JSON."""

    def __init__(self, path: str, app: Starlette) -> None:
        super().__init__(path, app=app)
        self.path_regex = re.compile(self.path_regex.pattern, re.DOTALL)


def api_routes(source: Runtime | Services | ServicesSource) -> list[BaseRoute]:
    """Routes to add to another Starlette app (e.g. next to /slack/events): /api/v1 and
    /metrics."""
    current = services_source(source)
    return [_ApiMount("/api", _inner_app(current)), metrics_route(current)]


build_api_routes = api_routes


def api_app(source: Runtime | Services | ServicesSource, health: Health | None = None) -> Starlette:
    """The API alone (for `supbot api` and tests), with GET /healthz and /readyz (`health`).
    Bodies past params.MAX_BODY are refused before they are buffered."""
    return Starlette(
        routes=[*(health or Health()).routes(), *api_routes(source)],
        middleware=[Middleware(BodyLimit, max_bytes=params.MAX_BODY, refusals=RefusalLog())],
    )
