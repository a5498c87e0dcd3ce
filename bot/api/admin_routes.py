"""/api/v1/reload and /api/v1/audit."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import errors
from bot.api import params
from bot.auth import RANK, Access
from bot.domain import ReloadDiff
from bot.durations import DurationError, parse_duration
from bot.services import Services

MAX_SINCE = 3650 * 86400.0


def diff_json(diff: ReloadDiff) -> dict[str, Any]:
    return {
        "node": diff.node,
        "added": list(diff.added),
        "changed": list(diff.changed),
        "removed": list(diff.removed),
        "fingerprint": diff.fingerprint,
    }


async def reload(request: Request, services: Services, access: Access) -> Response:
    """`reread` (+ `update` unless dry_run): applies exactly the diff it has just read."""
    dry_run = params.flag(request, "dry_run")

    def run() -> tuple[dict[str, Any], bool]:
        diffs = services.reload.preview(access)
        body: dict[str, Any] = {"dry_run": dry_run, "diffs": [diff_json(d) for d in diffs]}
        pending = [d.fingerprint for d in diffs if not d.empty]
        if dry_run or not pending:
            return {**body, "ok": True, "results": []}, True
        results = services.reload.apply(access, pending)
        ok = all(r.ok for r in results)
        body["results"] = [
            {"node": r.diff.node, "ok": r.ok, "messages": list(r.messages)} for r in results
        ]
        return {**body, "ok": ok}, ok

    body, ok = await run_in_threadpool(run)
    if ok:
        return JSONResponse(body)
    failed = [r["node"] for r in body["results"] if not r["ok"]]
    detail = f"The reload failed on {', '.join(failed)}."
    return JSONResponse({**body, "error": "reload_failed", "detail": detail}, 409)


async def audit(request: Request, services: Services, access: Access) -> Response:
    """The audit log covers every process and user: admin tokens only."""
    if access.max_role() < RANK["admin"]:
        raise errors.Forbidden(
            f"Token `{access.actor.id[4:]}` may not read the audit log: it needs the admin role."
        )
    raw = params.text(request, "since", "24h")
    try:
        since = parse_duration(raw)
    except DurationError as exc:
        raise params.bad(f"`since`: {exc}") from None
    since = min(since, MAX_SINCE)  # "since forever" is fine; an infinite number is not JSON
    limit = params.integer(request, "limit", 1000, 1, 1000)
    entries = await run_in_threadpool(services.audit.since, since, limit)
    return JSONResponse({"since": since, "entries": [e.to_json() for e in entries]})
