"""/api/v1/jobs, /api/v1/schedule/run and /api/v1/commands: the scheduler's services."""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.api import params
from bot.api.problems import ApiError
from bot.auth import Access
from bot.render.jsonout import to_plain
from bot.services import Services


def _service(services: Services, name: str) -> Any:
    service = getattr(services, name, None)
    if service is None:
        raise ApiError(404, "not_found", f"{name.title()} are not available in this installation.")
    return service


def _result(body: Any, ok: bool, what: str) -> Response:
    data = to_plain(body)
    if not isinstance(data, dict):
        data = {"result": data}
    if ok:
        return JSONResponse({**data, "ok": True})
    detail = f"The {what} failed" + (
        f" with exit code {data['exit_code']}." if data.get("exit_code") is not None else "."
    )
    return JSONResponse({"error": f"{what}_failed", "detail": detail, **data, "ok": False}, 409)


async def list_jobs(request: Request, services: Services, access: Access) -> Response:
    jobs = _service(services, "jobs")
    return JSONResponse({"jobs": to_plain(await run_in_threadpool(jobs.list_jobs, access))})


async def job_runs(request: Request, services: Services, access: Access) -> Response:
    jobs = _service(services, "jobs")
    name = request.path_params["name"]
    limit = params.integer(request, "limit", 20, 1, 1000)
    runs = await run_in_threadpool(jobs.history, access, name, limit)
    return JSONResponse({"job": name, "runs": to_plain(runs)})


async def run_job(request: Request, services: Services, access: Access) -> Response:
    jobs = _service(services, "jobs")
    run = await run_in_threadpool(jobs.run_now, access, request.path_params["name"])
    return _result(run, _succeeded(run), "job")


async def run_schedule(request: Request, services: Services, access: Access) -> Response:
    jobs = _service(services, "jobs")
    result = await run_in_threadpool(jobs.schedule_run, access)
    return JSONResponse({"result": to_plain(result)})


async def list_commands(request: Request, services: Services, access: Access) -> Response:
    commands = _service(services, "commands")
    return JSONResponse(
        {"commands": to_plain(await run_in_threadpool(commands.list_commands, access))}
    )


async def run_command(request: Request, services: Services, access: Access) -> Response:
    commands = _service(services, "commands")
    body = await params.json_object(request)
    unknown = sorted(set(body) - {"args"})
    if unknown:
        raise params.bad(f'Unknown field {unknown[0]!r}; the body may hold only "args".')
    args = body.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise params.bad('`args` must be a list of strings, like ["--force"].')
    result = await run_in_threadpool(commands.run, access, request.path_params["name"], args)
    return _result(result, _succeeded(result), "command")


def _succeeded(result: Any) -> bool:
    ok = getattr(result, "ok", None)
    if isinstance(ok, bool):
        return ok
    return getattr(result, "exit_code", 0) == 0
