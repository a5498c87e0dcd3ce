"""The OpenAPI 3 document for /api/v1, served at GET /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from bot.supervisor.client import MAX_TAIL_LINES

JSON = "application/json"
Schema = dict[str, Any]
DURATION = r"^([0-9]+(\.[0-9]+)?|([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w))+)$"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _obj(required: bool = True, **props: Schema) -> Schema:
    schema: Schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(props)
    return schema


def _list(item: Schema) -> Schema:
    return {"type": "array", "items": item}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}


def _nullable(kind: Schema) -> Schema:
    return {**kind, "nullable": True}


SCHEMAS: dict[str, Schema] = {
    "Error": {
        **_obj(error=STR, detail=STR),
        "description": "Every error. `suggestions` (404 for a process: the closest names the "
        "token may see), `matches` (400 ambiguous) and `node` (503) appear when they apply.",
        "properties": {
            "error": {**STR, "description": "A short code: unauthorized, forbidden, not_found, …"},
            "detail": {**STR, "description": "One sentence saying what to do."},
            "suggestions": _list(STR),
            "matches": _list(STR),
            "node": STR,
        },
    },
    "Process": _obj(
        node=STR,
        group=STR,
        name=STR,
        state=STR,
        pid=INT,
        start=INT,
        stop=INT,
        now=INT,
        exitstatus=INT,
        expected_exit=_nullable(BOOL),
        spawnerr=STR,
        description=STR,
        command=STR,
        startsecs=INT,
        memory_rss=_nullable(INT),
        cpu_percent=_nullable(NUM),
        display_name=STR,
        full_name=STR,
        uptime=_nullable(NUM),
        crashed=BOOL,
        bucket={"type": "string", "enum": ["running", "stopped", "crashed"]},
    ),  # fmt: skip
    "Node": _obj(node=STR, reachable=BOOL, error=_nullable(STR), local=BOOL),
    "Totals": _obj(total=INT, running=INT, stopped=INT, crashed=INT),
    "ProcessList": _obj(
        processes=_list(_ref("Process")),
        nodes=_list(_ref("Node")),
        totals=_ref("Totals"),
        cache_age=NUM,
    ),  # fmt: skip
    "ProcessDetails": _obj(process=_ref("Process"), log_preview=_list(STR), local=BOOL),
    "Outcome": _obj(
        process=STR,
        node=STR,
        action=STR,
        ok=BOOL,
        message=STR,
        state=STR,
        pid=INT,
        seconds=NUM,
        spawnerr=STR,
        log_tail=STR,
    ),  # fmt: skip
    "ActionReport": _obj(
        action=STR,
        pattern=STR,
        actor=STR,
        ok=BOOL,
        seconds=NUM,
        outcomes=_list(_ref("Outcome")),
    ),  # fmt: skip
    "LogTail": _obj(
        process=STR,
        node=STR,
        stream={"type": "string", "enum": ["stdout", "stderr"]},
        lines=_list(STR),
        truncated=BOOL,
        offset=INT,
        requested=INT,
    ),  # fmt: skip
    "ReloadDiff": _obj(
        node=STR, added=_list(STR), changed=_list(STR), removed=_list(STR), fingerprint=STR
    ),
    "Reload": _obj(
        dry_run=BOOL,
        ok=BOOL,
        diffs=_list(_ref("ReloadDiff")),
        results=_list(_obj(node=STR, ok=BOOL, messages=_list(STR))),
    ),  # fmt: skip
    "AuditEntry": _obj(
        id=INT,
        at=NUM,
        actor=STR,
        surface=STR,
        channel=STR,
        action=STR,
        target=STR,
        outcome={"type": "string", "enum": ["ok", "failed", "refused"]},
        duration=NUM,
        error=STR,
    ),  # fmt: skip
    "Audit": _obj(since=NUM, entries=_list(_ref("AuditEntry"))),
    "Run": _obj(
        id=INT,
        job=STR,
        status={
            "type": "string",
            "enum": ["running", "ok", "failed", "missed", "interrupted", "skipped"],
        },
        trigger=STR,
        actor=STR,
        started=NUM,
        scheduled=_nullable(NUM),
        ended=_nullable(NUM),
        duration=_nullable(NUM),
        exit_code=_nullable(INT),
        error=STR,
    ),  # fmt: skip
    "Job": _obj(
        name=STR,
        schedule=STR,
        schedule_description=STR,
        description=STR,
        timezone=STR,
        command=_list(STR),
        next_runs=_list(NUM),
        last_run={**_ref("Run"), "nullable": True},
        can_run=BOOL,
        skipped=INT,
    ),  # fmt: skip
    "Jobs": _obj(jobs=_list(_ref("Job"))),
    "JobRuns": _obj(job=STR, runs=_list(_ref("Run"))),
    "JobRun": {
        **_obj(run=_ref("Run"), finished=BOOL, ok=BOOL),
        "description": "202 while the run goes on (see `wait`), 200 when it ended ok.",
    },
    "ScheduleRun": _obj(runs=_list(_ref("Run"))),
    "Command": _obj(
        name=STR, description=STR, args=_nullable(STR), timeout=NUM, source=STR, can_run=BOOL
    ),
    "Commands": _obj(commands=_list(_ref("Command"))),
    "CommandResult": _obj(
        name=STR,
        args=_list(STR),
        exit_code=_nullable(INT),
        duration=NUM,
        output=STR,
        reason=STR,
        actor=STR,
        ok=BOOL,
    ),  # fmt: skip
    "CommandArgs": {
        "type": "object",
        "properties": {
            "args": {**_list(STR), "description": "Checked against the command's args pattern."}
        },
        "additionalProperties": False,
    },
}

ERRORS = {
    "400": "Bad parameter or request body.",
    "401": "Missing or wrong bearer token.",
    "403": "The token's role is too low, or the target is outside its globs; nothing was done.",
    "404": "No such process, job, command or endpoint (or the API is off).",
    "409": "The action ran but failed (the body holds the full result), or the state changed.",
    "413": "The request body is over 64 KB.",
    "503": "A supervisord node did not answer.",
    "500": "A bug: the detail holds an error id to find in supbot's log.",
}


def _param(name: str, where: str, schema: Schema, description: str) -> Schema:
    return {
        "name": name,
        "in": where,
        "required": where == "path",
        "schema": schema,
        "description": description,
    }


NAME = _param(
    "name",
    "path",
    STR,
    "A process (`web`, `worker:worker_00`), a group, a glob (`worker:*`), optionally `@node`.",
)
JOB = _param("name", "path", STR, "A job name from [[jobs]].")
COMMAND = _param("name", "path", STR, "A command name from [[commands]].")
LIMIT = _param(
    "limit",
    "query",
    {"type": "integer", "minimum": 1, "maximum": 1000},
    "At most this many entries.",
)


def _op(
    summary: str,
    ok: str,
    codes: str,
    *parameters: Schema,
    body: Schema | None = None,
) -> Schema:
    responses: dict[str, Any] = {
        "200": {"description": "OK", "content": {JSON: {"schema": _ref(ok)}}}
    }
    for code in codes.split():
        schema = _ref("Error")
        if code == "409":
            schema = {"allOf": [_ref("Error"), _ref(ok)]}
        responses[code] = {"description": ERRORS[code], "content": {JSON: {"schema": schema}}}
    op: Schema = {"summary": summary, "parameters": list(parameters), "responses": responses}
    if body is not None:
        op["requestBody"] = {"required": False, "content": {JSON: {"schema": body}}}
    return op


def _accepted(op: Schema) -> Schema:
    ok = op["responses"]["200"]["content"]
    op["responses"]["202"] = {"description": "Started; still running.", "content": ok}
    return op


READ, ACT = "400 401 403 404 503 500", "400 401 403 404 409 503 500"


def _paths() -> dict[str, Any]:
    return {
        "/api/v1/processes": {"get": _op(
            "Processes the token may see", "ProcessList", READ,
            _param("pattern", "query", STR, "Only processes this name, group or glob names."),
            _param("fresh", "query", BOOL, "Ask supervisord now instead of the status cache."),
        )},
        "/api/v1/processes/{name}": {"get": _op("One process in detail", "ProcessDetails", READ, NAME)},
        **{
            f"/api/v1/processes/{{name}}/{action}": {"post": _op(
                f"{action.title()} every process the name, group or glob names (synchronous)",
                "ActionReport", ACT, NAME,
            )}
            for action in ("start", "stop", "restart")
        },
        "/api/v1/processes/{name}/logs": {"get": _op(
            "The last lines of a process's log, secrets redacted", "LogTail", READ, NAME,
            _param("lines", "query", {"type": "integer", "minimum": 1, "maximum": MAX_TAIL_LINES}, "How many lines (default 100)."),
            _param("stream", "query", {"type": "string", "enum": ["stdout", "stderr"]}, "Which log (default stdout)."),
        )},
        "/api/v1/reload": {"post": _op(
            "reread + update (admin); dry_run=true returns the diff only", "Reload", ACT,
            _param("dry_run", "query", BOOL, "Show the diff, change nothing."),
        )},
        "/api/v1/jobs": {"get": _op("Scheduled jobs the token may see", "Jobs", READ)},
        "/api/v1/jobs/{name}/runs": {"get": _op("Recent runs of a job", "JobRuns", READ, JOB, LIMIT)},
        "/api/v1/jobs/{name}/run": {"post": _accepted(_op(
            "Run a job now", "JobRun", ACT, JOB,
            _param("wait", "query", {"type": "integer", "minimum": 0, "maximum": 3600}, "Wait up to this many seconds for the run to end (default 0)."),
        ))},
        "/api/v1/schedule/run": {"post": _op("Run the jobs that are due (cron hook)", "ScheduleRun", ACT)},
        "/api/v1/commands": {"get": _op("Commands the token may run", "Commands", READ)},
        "/api/v1/commands/{name}/run": {"post": _op(
            "Run a command and wait for it", "CommandResult", ACT + " 413", COMMAND, body=_ref("CommandArgs"),
        )},
        "/api/v1/audit": {"get": _op(
            "The audit log (admin tokens)", "Audit", READ,
            _param("since", "query", {**STR, "pattern": DURATION}, "How far back, e.g. 30m, 1h, 7d (default 24h)."), LIMIT,
        )},
        "/api/v1/openapi.json": {"get": {
            "summary": "This document (no token needed)", "security": [],
            "responses": {"200": {"description": "OK", "content": {JSON: {"schema": {"type": "object"}}}},
                          "404": {"description": ERRORS["404"], "content": {JSON: {"schema": _ref("Error")}}}},
        }},
    }  # fmt: skip


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "supbot API",
            "version": "1",
            "description": "Supervisor operations for scripts and dashboards. Send "
            "`Authorization: Bearer <token>` with a token from [[api_tokens]].",
        },
        "paths": _paths(),
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
