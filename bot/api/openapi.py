"""The OpenAPI 3 document for /api/v1, served at GET /api/v1/openapi.json."""

from __future__ import annotations

from typing import Any

from bot.api import openapi_silences
from bot.supervisor.client import MAX_TAIL_LINES

JSON = "application/json"
Schema = dict[str, Any]
DURATION = r"^([0-9]+(\.[0-9]+)?|([0-9]+(\.[0-9]+)?(ms|s|m|h|d|w))+)$"


def _ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def _list(item: Schema) -> Schema:
    return {"type": "array", "items": item}


STR: Schema = {"type": "string"}
INT: Schema = {"type": "integer"}
NUM: Schema = {"type": "number"}
BOOL: Schema = {"type": "boolean"}


def _nullable(kind: Schema) -> Schema:
    return {**kind, "nullable": True}


SCALARS = {"str": STR, "int": INT, "num": NUM, "bool": BOOL}


def _type(word: str) -> Schema:
    """`str`, `int`, `num`, `bool`; a schema's name (`Run`); `a|b`: one of these strings;
    `[t]`: a list of t; `t?`: t or null."""
    if word.endswith("?"):
        return _nullable(_type(word[:-1]))
    if word.startswith("[") and word.endswith("]"):
        return _list(_type(word[1:-1]))
    if "|" in word:
        return {"type": "string", "enum": word.split("|")}
    return SCALARS.get(word) or _ref(word)


def _fields(spec: str, **more: Schema) -> Schema:
    """An object whose properties are all required: `name:type` words (see _type), then
    `more` for what the words cannot say."""
    words = (word.split(":") for word in spec.split())
    props = {name: _type(kind) for name, kind in words} | more
    return {"type": "object", "properties": props, "required": list(props)}


SCHEMAS: dict[str, Schema] = {
    "Error": {
        **_fields("error:str detail:str"),
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
    "Process": _fields(
        "node:str group:str name:str state:str pid:int start:int stop:int now:int"
        " exitstatus:int expected_exit:bool? spawnerr:str description:str command:str"
        " startsecs:int memory_rss:int? cpu_percent:num? display_name:str full_name:str"
        " uptime:num? crashed:bool bucket:running|stopped|crashed"
    ),
    "Node": _fields("node:str reachable:bool error:str? local:bool"),
    "Totals": _fields("total:int running:int stopped:int crashed:int"),
    "ProcessList": _fields("processes:[Process] nodes:[Node] totals:Totals cache_age:num"),
    "ProcessDetails": _fields("process:Process log_preview:[str] local:bool"),
    "Outcome": _fields(
        "process:str node:str action:str ok:bool message:str state:str pid:int seconds:num"
        " spawnerr:str log_tail:str"
    ),
    "ActionReport": _fields(
        "action:str pattern:str actor:str ok:bool seconds:num outcomes:[Outcome]"
    ),
    "LogTail": _fields(
        "process:str node:str stream:stdout|stderr lines:[str] truncated:bool offset:int"
        " requested:int search:LogSearch?"
    ),
    "LogSearch": _fields(
        "pattern:str ignore_case:bool matches:int searched:int size:int context:int"
    ),
    "ReloadDiff": _fields("node:str added:[str] changed:[str] removed:[str] fingerprint:str"),
    "Reload": _fields(
        "dry_run:bool ok:bool diffs:[ReloadDiff]",
        results=_list(_fields("node:str ok:bool messages:[str]")),
    ),
    "AuditEntry": _fields(
        "id:int at:num actor:str surface:str channel:str action:str target:str"
        " outcome:ok|failed|refused duration:num error:str"
    ),
    "Audit": _fields("since:num entries:[AuditEntry]"),
    "Incident": _fields(
        "id:int kind:process|node|listener target:str node:str process:str"
        " status:open|recovered|stopped|resolved state:str crashes:int opened:num last:num"
        " closed:num? acked_by:str? acked_at:num? escalated:int note:str"
    ),
    "Incidents": _fields("incidents:[Incident]"),
    "IncidentChange": _fields("incident:Incident"),
    "ResolveNote": {
        "type": "object",
        "properties": {"note": {**STR, "description": "Why it was closed (at most 500 chars)."}},
        "additionalProperties": False,
    },
    "Run": _fields(
        "id:int job:str status:running|ok|failed|missed|interrupted|skipped trigger:str"
        " actor:str started:num scheduled:num? ended:num? duration:num? exit_code:int?"
        " error:str"
    ),
    "Job": _fields(
        "name:str schedule:str schedule_description:str description:str timezone:str"
        " command:[str] next_runs:[num] last_run:Run? can_run:bool skipped:int"
    ),
    "LaravelTask": {
        **_fields(
            "name:str command:str source:str expression:str schedule_description:str"
            " description:str timezone:str repeat_seconds:int? next_runs:[str]"
            " laravel_next_due:str? laravel_next_due_text:str laravel_agrees:bool?"
            " also_job:str? can_run:bool"
        ),
        "description": "A task of a [[job_sources]] entry (Laravel's schedule:list). "
        "`next_runs` are ISO-8601 times in `timezone`; `laravel_agrees` says whether Laravel's "
        "own next due matches (null: nothing to compare); `also_job` names the [[jobs]] "
        "entry that runs the same command.",
    },
    "Jobs": _fields("jobs:[Job] laravel:[LaravelTask] laravel_errors:[str]"),
    "JobRuns": _fields("job:str runs:[Run]"),
    "JobRun": {
        **_fields("run:Run finished:bool ok:bool"),
        "description": "202 while the run goes on (see `wait`), 200 when it ended ok.",
    },
    "ScheduleRun": _fields("runs:[Run]"),
    "LaravelRun": {
        **_fields(
            "name:str shown:str exit_code:int? duration:num output:str reason:str actor:str ok:bool"
        ),
        "description": "`shown` is what ran (`php artisan schedule:run`); output redacted.",
    },
    "Command": _fields("name:str description:str args:str? timeout:num source:str can_run:bool"),
    "Commands": _fields("commands:[Command]"),
    "CommandResult": _fields(
        "name:str args:[str] exit_code:int? duration:num output:str reason:str actor:str ok:bool"
    ),
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
NODE = _param("node", "path", STR, "A node (`web1` or `@web1`) a [[job_sources]] entry runs on.")
TASK = _param("name", "path", STR, "A Laravel task's name as GET /api/v1/jobs lists it.")
INCIDENT = _param(
    "id", "path", {"type": "integer", "minimum": 1}, "An incident number (GET /api/v1/incidents)."
)
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
            "The last lines of a process's log, secrets redacted; with `grep`, the last matching lines", "LogTail", READ, NAME,
            _param("lines", "query", {"type": "integer", "minimum": 1, "maximum": MAX_TAIL_LINES}, "How many lines (default 100)."),
            _param("stream", "query", {"type": "string", "enum": ["stdout", "stderr"]}, "Which log (default stdout)."),
            _param("grep", "query", {"type": "string", "maxLength": 200}, "A regular expression: return the last `lines` matching lines of the last `[logs] search_bytes` of the log (400 for an invalid or refused pattern)."),
            _param("i", "query", BOOL, "Ignore case (with grep)."),
            _param("context", "query", {"type": "integer", "minimum": 0, "maximum": 10}, "Lines shown before and after each match (with grep; default 0)."),
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
        "/api/v1/schedule/run/{node}": {"post": _op(
            "Laravel's schedule:run on a node, and wait for it", "LaravelRun", ACT, NODE,
        )},
        "/api/v1/laravel/tasks/{name}/run": {"post": _op(
            "Run one Laravel task now (schedule:test --name=…), and wait for it", "LaravelRun", ACT, TASK,
        )},
        "/api/v1/commands": {"get": _op("Commands the token may run", "Commands", READ)},
        "/api/v1/commands/{name}/run": {"post": _op(
            "Run a command and wait for it", "CommandResult", ACT + " 413", COMMAND, body=_ref("CommandArgs"),
        )},
        "/api/v1/audit": {"get": _op(
            "The audit log (admin tokens)", "Audit", READ,
            _param("since", "query", {**STR, "pattern": DURATION}, "How far back, e.g. 30m, 1h, 7d (default 24h)."), LIMIT,
        )},
        "/api/v1/incidents": {"get": _op("Open incidents of the processes the token may see", "Incidents", READ)},
        "/api/v1/incidents/{id}/ack": {"post": _op(
            "Take ownership of an incident (operator; stops escalation)", "IncidentChange", ACT, INCIDENT,
        )},
        "/api/v1/incidents/{id}/resolve": {"post": _op(
            "Close an incident by hand (operator)", "IncidentChange", ACT, INCIDENT, body=_ref("ResolveNote"),
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
        "paths": {**_paths(), **openapi_silences.paths(_op, _ref, _param, READ, ACT)},
        "components": {
            "schemas": {**SCHEMAS, **openapi_silences.schemas(_fields, STR)},
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"bearer": []}],
    }
