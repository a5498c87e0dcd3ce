"""GET /healthz (liveness): 200 `{"ok": true}` whenever the process answers.
GET /readyz (readiness): 200 when every dependency of this replica answers (the state database,
Slack), else 503, with JSON detail: what is down, unreachable nodes (noted, not failing it: every
replica sees the same nodes) and the lease state (which singleton loops this replica leads).

Each check returns what it finds down as {component: one sentence}; an empty dict is healthy.
Checks run on a worker thread (a node check may wait for its timeout). The process keeps
running and retrying whatever is down: a 503 on /readyz reports an outage (take the replica out
of a load balancer, alert); it is no reason to restart supbot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

if TYPE_CHECKING:
    from bot.services import Runtime

log = logging.getLogger("supbot.http")

Check = Callable[[], dict[str, str]]
Detail = Callable[[], dict[str, Any]]


class Health:
    """`checks` decide readiness; `notes` are reported beside them; `detail` adds fields
    (the replica's name and leases)."""

    def __init__(
        self, *checks: Check, notes: tuple[Check, ...] = (), detail: Detail | None = None
    ) -> None:
        self.checks: list[Check] = list(checks)
        self.notes: list[Check] = list(notes)
        self.detail = detail

    def add(self, check: Check) -> None:
        """Another dependency to report (e.g. the state database)."""
        self.checks.append(check)

    def down(self) -> dict[str, str]:
        return _run(self.checks)

    def readiness(self) -> tuple[bool, dict[str, Any]]:
        """Ready or not, and the JSON body of /readyz."""
        down, noted = self.down(), _run(self.notes)
        body: dict[str, Any] = {"ok": not down}
        if down:
            body["down"] = down
        if noted:
            body["degraded"] = noted
        if self.detail is not None:
            body.update(self.detail())
        return not down, body

    def routes(self) -> list[Route]:
        async def healthz(_request: Request) -> Response:
            return JSONResponse({"ok": True})

        async def readyz(_request: Request) -> Response:
            ready, body = await run_in_threadpool(self.readiness)
            return JSONResponse(body, status_code=200 if ready else 503)

        return [
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ]


def _run(checks: list[Check]) -> dict[str, str]:
    found: dict[str, str] = {}
    for check in checks:
        try:
            found.update(check())
        except Exception as exc:  # a broken check is itself something down, not a 500
            log.exception("health check %r failed", check)
            found[getattr(check, "__name__", "check")] = f"the check failed: {exc!r}"
    return found


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
