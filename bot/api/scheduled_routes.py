"""/api/v1/jobs, /api/v1/schedule/run and /api/v1/commands: the scheduler's services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot import errors
from bot.api import params
from bot.auth import Access, refusal
from bot.commands.service import CommandResult, UnknownCommand
from bot.commands.spec import CommandSpec
from bot.grammar import Command
from bot.scheduler.jobs import JobView, UnknownJob
from bot.scheduler.laravel_jobs import UnknownLaravel
from bot.scheduler.laravel_json import laravel_list_json
from bot.scheduler.laravel_verbs import laravel_run
from bot.scheduler.verbs import jobs_reply
from bot.services import Services
from bot.storage.job_records import JobRun
from bot.usertext import quote as typed

MAX_WAIT = 3600
T = TypeVar("T")


def run_json(run: JobRun) -> dict[str, Any]:
    return {
        "id": run.id,
        "job": run.job,
        "status": run.status,
        "trigger": run.trigger,
        "actor": run.actor,
        "started": run.started,
        "scheduled": run.scheduled,
        "ended": run.ended,
        "duration": run.duration,
        "exit_code": run.exit_code,
        "error": run.error,
    }


def job_json(services: Services, view: JobView) -> dict[str, Any]:
    job = view.job  # its env stays out: it is configuration, not something to publish
    return {
        "name": job.name,
        "schedule": job.schedule,
        "schedule_description": view.description,
        "description": job.description,
        "timezone": job.timezone,
        "command": [services.redactor.redact(word) for word in job.command],
        "next_runs": list(view.next_runs),
        "last_run": run_json(view.last_run) if view.last_run else None,
        "can_run": view.can_run,
        "skipped": view.skipped,
    }


def command_json(services: Services, access: Access, spec: CommandSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "description": spec.description,
        "args": spec.args,
        "timeout": spec.timeout,
        "source": spec.source,
        "can_run": access.allows_named("run", "commands", spec.name),
    }


def result_json(result: CommandResult) -> dict[str, Any]:
    return {
        "name": result.name,
        "args": list(result.args),
        "exit_code": result.exit_code,
        "duration": result.duration,
        "output": result.output,
        "reason": result.error,  # "error" is the error code in a 409
        "actor": result.actor,
        "ok": result.ok,
    }


def outside_globs(
    services: Services, access: Access, kind: str, action: str, name: str, call: Callable[[], T]
) -> T:
    """Run `call`; a job or command that exists but lies outside the token's globs is a 403
    (the services answer "unknown", as Slack must not reveal it), audited when it runs things."""
    unknown = UnknownJob if kind == "jobs" else UnknownCommand
    try:
        return call()
    except unknown:
        if kind == "jobs":
            exists = any(j.name == name for j in services.settings.jobs)
        else:
            exists = any(c.name == name for c in services.commands.all_commands())
        if not exists:
            raise
        message = refusal(access.actor, action, name)
        if kind == "jobs" and action == "job_run":  # the command service audits its own
            actor = access.actor
            services.audit.record(
                actor.id, actor.surface, action, name, "refused", "", 0.0, message
            )
        raise errors.Forbidden(message) from None


async def list_jobs(request: Request, services: Services, access: Access) -> Response:
    """supbot's jobs, and the tasks Laravel schedules itself ([[job_sources]])."""
    reply = await run_in_threadpool(jobs_reply, services.jobs, services.laravel, access)
    return JSONResponse(
        {
            "jobs": [job_json(services, v) for v in reply.jobs],
            "laravel": laravel_list_json(reply.laravel),
            "laravel_errors": list(reply.laravel_errors),
        }
    )


async def job_runs(request: Request, services: Services, access: Access) -> Response:
    name = request.path_params["name"]
    limit = params.integer(request, "limit", 20, 1, 1000)

    def history() -> list[JobRun]:
        services.jobs.reconcile_jobs()
        return services.jobs.history(access, name, limit)

    runs = await run_in_threadpool(
        outside_globs, services, access, "jobs", "history", name, history
    )
    return JSONResponse({"job": name, "runs": [run_json(r) for r in runs]})


async def run_job(request: Request, services: Services, access: Access) -> Response:
    """Start the job; with `wait=N` wait up to N seconds for it to finish."""
    wait = params.integer(request, "wait", 0, 0, MAX_WAIT)
    name = request.path_params["name"]

    def run_now() -> JobRun:
        return services.jobs.run_now(access, name)

    run = await run_in_threadpool(outside_globs, services, access, "jobs", "job_run", name, run_now)
    if wait:
        run = await run_in_threadpool(services.jobs.wait, run.id, float(wait))
    body = {"run": run_json(run), "finished": run.finished, "ok": run.status == "ok"}
    if not run.finished:
        return JSONResponse(body, 202)
    if run.status == "ok":
        return JSONResponse(body)
    detail = f"Job `{run.job}` run #{run.id} ended {run.status}" + (
        f" with exit code {run.exit_code}." if run.exit_code is not None else "."
    )
    return JSONResponse({**body, "error": "job_failed", "detail": detail}, 409)


async def run_schedule(request: Request, services: Services, access: Access) -> Response:

    runs = await run_in_threadpool(services.jobs.schedule_run, access)
    return JSONResponse({"runs": [run_json(r) for r in runs]})


async def run_laravel_schedule(request: Request, services: Services, access: Access) -> Response:
    """Laravel's `schedule:run` on a node, through the path `/sup schedule run @node` takes."""
    node = "@" + request.path_params["node"].removeprefix("@")
    return await _laravel(services, access, Command("schedule", ("run", node)))


async def run_laravel_task(request: Request, services: Services, access: Access) -> Response:
    """One Laravel task now (`schedule:test --name=…`), as `/sup job run <task>`."""
    name = request.path_params["name"]
    if services.jobs.launcher.job(name) is not None or not services.laravel.sources:
        raise UnknownLaravel(f"No Laravel task {typed(name)} here; see GET /api/v1/jobs.")
    return await _laravel(services, access, Command("job", ("run", name)))


async def _laravel(services: Services, access: Access, command: Command) -> Response:
    reply = await run_in_threadpool(laravel_run, services.laravel, services.jobs, access, command)
    data = {
        "name": reply.name,
        "shown": reply.shown,
        "exit_code": reply.exit_code,
        "duration": reply.duration,
        "output": reply.output,
        "reason": reply.error,
        "actor": access.actor.id,
        "ok": reply.ok,
    }
    if reply.ok:
        return JSONResponse(data)
    why = reply.error or f"exit code {reply.exit_code}"
    return JSONResponse(
        {**data, "error": "command_failed", "detail": f"`{reply.shown}` failed ({why})."}, 409
    )


async def list_commands(request: Request, services: Services, access: Access) -> Response:
    specs = await run_in_threadpool(services.commands.list_commands, access)
    return JSONResponse({"commands": [command_json(services, access, s) for s in specs]})


async def run_command(request: Request, services: Services, access: Access) -> Response:
    body = await params.json_object(request)
    unknown = sorted(set(body) - {"args"})
    if unknown:
        raise params.bad(f'Unknown field {unknown[0]!r}; the body may hold only "args".')
    args = body.get("args", [])
    if not isinstance(args, list) or not all(isinstance(a, str) for a in args):
        raise params.bad('`args` must be a list of strings, like ["--force"].')
    name = request.path_params["name"]

    def run() -> CommandResult:
        return services.commands.run(access, name, args)

    result = await run_in_threadpool(outside_globs, services, access, "commands", "run", name, run)
    data = result_json(result)
    if result.ok:
        return JSONResponse(data)
    why = result.error or f"exit code {result.exit_code}"
    detail = f"Command `{result.name}` failed ({why})."
    return JSONResponse({**data, "error": "command_failed", "detail": detail}, 409)
