"""/api/v1/silences (set, list, end) and /api/v1/deploys (record): what deploy scripts call,
with the same rules and audit as `/sup silence` and `supbot deploy`."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.alerts.deploys import DeployService
from bot.alerts.silence_records import Deploy, Silence
from bot.alerts.silences import SilenceService, check_duration
from bot.api import params
from bot.auth import Access
from bot.services import Services


def _silences(services: Services) -> SilenceService:
    return SilenceService(services.store, services.processes, services.audit)


def silence_json(s: Silence, held: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id,
        "match": s.match,
        "reason": s.reason,
        "by": s.by,
        "created": s.created,
        "until": s.until,
        "ended_by": s.ended_by or None,
        "window": s.window,
    }
    if held is not None:
        out["crashes"] = held
    return out


def deploy_json(d: Deploy) -> dict[str, Any]:
    return {
        "id": d.id,
        "what": d.what,
        "version": d.version,
        "by": d.by,
        "actor": d.actor,
        "at": d.at,
    }


async def _body(request: Request, allowed: set[str], required: set[str]) -> dict[str, str]:
    body = await params.json_object(request)
    unknown = sorted(set(body) - allowed)
    if unknown:
        fields = ", ".join(f'"{f}"' for f in sorted(allowed))
        raise params.bad(f"Unknown field {unknown[0]!r}; the body may hold {fields}.")
    for name in sorted(required):
        if name not in body:
            raise params.bad(f'"{name}" is required, e.g. {{"match": "web*", "for": "10m"}}.')
    for name, value in body.items():
        if not isinstance(value, str):
            raise params.bad(f'"{name}" must be a string.')
    return body


async def create_silence(request: Request, services: Services, access: Access) -> Response:
    body = await _body(request, {"match", "for", "reason"}, {"match", "for"})
    try:
        seconds = check_duration(body["for"])
    except Exception as exc:  # the message says which durations are accepted
        raise params.bad(f'"for": {exc}') from None
    service = _silences(services)
    found = await run_in_threadpool(
        service.silence, access, body["match"], seconds, body.get("reason", "")
    )
    return JSONResponse({"silence": silence_json(found)}, status_code=201)


async def list_silences(request: Request, services: Services, access: Access) -> Response:
    found = await run_in_threadpool(_silences(services).active, access)
    return JSONResponse({"silences": [silence_json(s, n) for s, n in found]})


async def silences(request: Request, services: Services, access: Access) -> Response:
    """GET lists, POST sets."""
    if request.method == "POST":
        return await create_silence(request, services, access)
    return await list_silences(request, services, access)


async def delete_silence(request: Request, services: Services, access: Access) -> Response:
    text = request.path_params["id"]
    if not text.isdigit():
        raise params.bad(f"{text[:20]!r} is not a silence number, like 3.")
    ended = await run_in_threadpool(_silences(services).unsilence, access, int(text))
    return JSONResponse({"silence": silence_json(ended)})


async def create_deploy(request: Request, services: Services, access: Access) -> Response:
    body = await _body(request, {"what", "version", "by"}, {"what", "version"})
    service = DeployService(services.store, services.processes, services.audit)
    done = await run_in_threadpool(
        service.record, access, body["what"], body["version"], body.get("by", "")
    )
    return JSONResponse({"deploy": deploy_json(done)}, status_code=201)
