"""/api/v1/processes: list, one process, start/stop/restart, logs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from fnmatch import fnmatchcase
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import errors, names
from bot.api import params
from bot.api.problems import ApiError
from bot.auth import Access, refusal
from bot.domain import ProcessInfo
from bot.log_search import MAX_CONTEXT, GrepRequest
from bot.processes import ActionReport
from bot.render.jsonout import to_plain
from bot.services import Services
from bot.supervisor.client import MAX_TAIL_LINES
from bot.usertext import quote

T = TypeVar("T")
Handler = Callable[[Request, Services, Access], Awaitable[Response]]
API_ACTIONS = ("start", "stop", "restart")


def process_json(services: Services, process: ProcessInfo) -> dict[str, Any]:
    """A process as JSON; free text that may hold secrets (command line, errors) redacted."""
    data: dict[str, Any] = to_plain(process)
    for key in ("command", "description", "spawnerr"):
        data[key] = services.redactor.redact(data[key] or "")
    return data


def guarded(
    services: Services, access: Access, pattern: str, action: str, call: Callable[[], T]
) -> T:
    """Run `call`; when it finds no process the token may see, tell apart a node that did not
    answer (503), processes outside the token's globs (403; a refused action is audited where
    it is planned, bot/processes.py) and names that exist nowhere (404 with the closest
    visible names)."""
    if not pattern.strip() and action != "status":
        raise errors.NoSuchProcess(pattern)  # a blank path segment names nothing
    _, node = names.split_node(pattern)
    if node and not any(fnmatchcase(n, node) for n in services.fleet.clients):
        known = ", ".join(services.fleet.clients)
        raise ApiError(404, "not_found", f"No node matches {quote(node, 40)}; nodes: {known}.")
    try:
        return call()
    except errors.NoSuchProcess:
        processes, statuses = services.fleet.processes(services.fleet.nodes_for(node))
        for status in statuses:
            if status.error and (node is None or fnmatchcase(status.node, node)):
                raise errors.NodeUnreachable(status.node, status.error) from None
        if names.select(processes, pattern):
            raise errors.Forbidden(refusal(access.actor, action, pattern)) from None
        raise


async def list_processes(request: Request, services: Services, access: Access) -> Response:
    pattern = params.text(request, "pattern").strip()
    fresh = params.flag(request, "fresh")

    def status() -> Any:
        return services.processes.status(access, pattern, fresh=fresh)

    view = await run_in_threadpool(guarded, services, access, pattern, "status", status)
    if view.nodes and all(n.error for n in view.nodes):
        down = view.nodes[0]
        raise errors.NodeUnreachable(down.node, down.error or "no answer")
    return JSONResponse(
        {
            "processes": [process_json(services, p) for p in view.processes],
            "nodes": [
                {"node": n.node, "reachable": n.error is None, "error": n.error, "local": n.local}
                for n in view.nodes
            ],
            "totals": to_plain(view.totals),
            "cache_age": round(view.cache_age, 3),
        }
    )


async def get_process(request: Request, services: Services, access: Access) -> Response:
    name = request.path_params["name"]

    def info() -> Any:
        return services.processes.info(access, name)

    details = await run_in_threadpool(guarded, services, access, name, "info", info)
    return JSONResponse(
        {
            "process": process_json(services, details.process),
            "log_preview": list(details.log_preview),
            "local": details.local,
        }
    )


async def process_logs(request: Request, services: Services, access: Access) -> Response:
    name = request.path_params["name"]
    lines = params.integer(request, "lines", 100, 1, MAX_TAIL_LINES)
    stream = params.choice(request, "stream", ("stdout", "stderr"), "stdout")
    pattern = request.query_params.get("grep")
    ignore_case = params.flag(request, "i")
    context = params.integer(request, "context", 0, 0, MAX_CONTEXT)
    if pattern is None and (ignore_case or context):
        raise params.bad("`i` and `context` go with `grep`, e.g. `?grep=ERROR&i=true`.")

    def tail() -> Any:
        if pattern is not None:
            ask = GrepRequest(pattern, ignore_case, lines, context, stream)
            return services.processes.grep(access, name, ask)
        return services.processes.tail(access, name, lines, stream)

    result = await run_in_threadpool(guarded, services, access, name, "tail", tail)
    return JSONResponse(to_plain(result))


def act_on_process(action: str) -> Handler:
    """The handler for POST /processes/{name}/<action>."""

    async def handler(request: Request, services: Services, access: Access) -> Response:
        return await _act(request.path_params["name"], action, services, access)

    return handler


async def _act(name: str, action: str, services: Services, access: Access) -> Response:
    def act() -> ActionReport:
        return services.processes.act(access, action, name)

    report = await run_in_threadpool(guarded, services, access, name, action, act)
    body: dict[str, Any] = {
        "action": report.action,
        "pattern": report.pattern,
        "actor": report.actor,
        "ok": report.ok,
        "seconds": round(report.seconds, 3),
        "outcomes": [to_plain(o) for o in report.outcomes],
    }
    if report.ok:
        return JSONResponse(body)
    failed = [o.process for o in report.outcomes if not o.ok]
    detail = (
        f"{len(failed)} of {len(report.outcomes)} processes did not {action}: {', '.join(failed)}."
    )
    return JSONResponse({**body, "error": "action_failed", "detail": detail}, 409)
