"""GET /healthz: 200 `{"ok": true}` when every dependency answers, else 503 with what is down.

Each check returns what it finds down as {component: one sentence}; an empty dict is healthy.
Checks run on a worker thread (a node check may wait for its timeout). The process keeps
running and retrying whatever is down: a 503 here reports an outage, it is no reason to
restart supbot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from bot.services import Runtime

log = logging.getLogger("supbot.http")

Check = Callable[[], dict[str, str]]


class Health:
    def __init__(self, *checks: Check) -> None:
        self.checks: list[Check] = list(checks)

    def add(self, check: Check) -> None:
        """Another dependency to report (e.g. the state database)."""
        self.checks.append(check)

    def down(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for check in self.checks:
            try:
                found.update(check())
            except Exception as exc:  # a broken check is itself something down, not a 500
                log.exception("health check %r failed", check)
                found[getattr(check, "__name__", "check")] = f"the check failed: {exc!r}"
        return found

    def route(self, path: str = "/healthz") -> Route:
        async def healthz(_request: Request) -> Response:
            down = await run_in_threadpool(self.down)
            if down:
                return JSONResponse({"ok": False, "down": down}, status_code=503)
            return JSONResponse({"ok": True})

        return Route(path, healthz, methods=["GET"])


def nodes_check(runtime: Runtime) -> Check:
    """Every configured supervisord node (the status cache spares repeated reads)."""

    def nodes() -> dict[str, str]:
        statuses = runtime.services.fleet.status()
        return {f"node {s.node}": f"unreachable: {s.error}" for s in statuses if s.error}

    return nodes


def state_check(runtime: Runtime) -> Check:
    """The shared state database: removed, not a database, full or read-only."""

    def state() -> dict[str, str]:
        problem = runtime.services.store.health()
        return {"state": problem} if problem else {}

    return state
