"""/api/v1/incidents: list the open incidents, ack and resolve one (same rules as Slack)."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.alerts.oncall import NOTE_MAX, OnCallService, label
from bot.alerts.pagers import Pager
from bot.alerts.records import Incident
from bot.api import params
from bot.auth import Access
from bot.services import Services
from bot.storage.alerts.store import AlertStore


def _service(services: Services) -> OnCallService:
    alerts, pager = AlertStore(services.store), Pager(services.settings)
    return OnCallService(alerts, services.processes, services.audit, pager)


def incident_json(inc: Incident) -> dict[str, Any]:
    return {
        "id": inc.id,
        "kind": inc.kind,
        "target": label(inc),
        "node": inc.node,
        "process": inc.process,
        "status": inc.status,
        "state": inc.state,
        "crashes": inc.crashes,
        "opened": inc.opened,
        "last": inc.last,
        "closed": inc.closed,
        "acked_by": inc.acked_by,
        "acked_at": inc.acked_at,
        "escalated": inc.escalated,
        "note": inc.note,
    }


def _id(request: Request) -> int:
    text = request.path_params["id"]
    if not text.isdigit():
        raise params.bad(f"{text[:20]!r} is not an incident number, like 12.")
    return int(text)


async def list_incidents(request: Request, services: Services, access: Access) -> Response:
    found = await run_in_threadpool(_service(services).open_incidents, access)
    return JSONResponse({"incidents": [incident_json(i) for i in found]})


async def ack(request: Request, services: Services, access: Access) -> Response:
    inc = await run_in_threadpool(_service(services).ack, access, _id(request))
    return JSONResponse({"incident": incident_json(inc)})


async def resolve(request: Request, services: Services, access: Access) -> Response:
    body = await params.json_object(request)
    unknown = sorted(set(body) - {"note"})
    if unknown:
        raise params.bad(f'Unknown field {unknown[0]!r}; the body may hold only "note".')
    note = body.get("note", "")
    if not isinstance(note, str) or len(note) > NOTE_MAX:
        raise params.bad(f"`note` must be a string of at most {NOTE_MAX} characters.")
    inc = await run_in_threadpool(_service(services).resolve, access, _id(request), note)
    return JSONResponse({"incident": incident_json(inc)})
