"""Errors as JSON: `{"error": "<code>", "detail": "<one sentence>"}` with the right status.

Expected failures (bot.errors) map to 4xx/503; anything else is a bug: logged with its
traceback under an error id, answered with 500 and that id only.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse

from bot import errors
from bot.alerts.oncall import UnknownIncident
from bot.alerts.silences import UnknownSilence
from bot.api.auth import Unauthorized
from bot.audit import AuditUnavailable
from bot.commands.service import UnknownCommand
from bot.runs.execute import ProgramMissing
from bot.scheduler.jobs import JobBusy, UnknownJob
from bot.scheduler.laravel_jobs import UnknownLaravel

log = logging.getLogger("supbot.api")


class ApiError(Exception):
    """A failure the API reports itself (bad parameter, unknown route, feature off)."""

    def __init__(self, status: int, error: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.error, self.detail, self.extra = status, error, detail, extra


# Checked in order: subclasses before their bases.
_STATUS: tuple[tuple[type[errors.SupbotError], int, str], ...] = (
    (errors.Forbidden, 403, "forbidden"),
    (errors.NoSuchProcess, 404, "not_found"),
    (errors.NotConfigured, 404, "not_found"),
    (errors.AmbiguousName, 400, "ambiguous"),
    (UnknownLaravel, 404, "not_found"),
    (errors.UsageError, 400, "bad_request"),
    (errors.NodeUnreachable, 503, "node_unreachable"),
    (errors.ReloadChanged, 409, "conflict"),
    (errors.ReloadFailed, 409, "reload_failed"),
    (errors.AlreadyRunning, 409, "conflict"),
    (errors.NotRunning, 409, "conflict"),
    (errors.NoLogFile, 404, "no_log_file"),
    (UnknownJob, 404, "not_found"),
    (UnknownIncident, 404, "not_found"),
    (UnknownSilence, 404, "not_found"),
    (UnknownCommand, 404, "not_found"),
    (JobBusy, 409, "busy"),
    (ProgramMissing, 409, "cannot_run"),
    (AuditUnavailable, 503, "audit_unavailable"),
    (errors.SupbotError, 400, "failed"),
)

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 413: "too_large"}


def problem(
    status: int, error: str, detail: str, headers: Mapping[str, str] | None = None, **extra: Any
) -> JSONResponse:
    if status == 401:
        headers = {"WWW-Authenticate": 'Bearer realm="supbot"'}
    return JSONResponse({"error": error, "detail": detail, **extra}, status, headers=headers)


def for_exception(exc: BaseException) -> JSONResponse:
    """The JSON answer for any exception an endpoint raised."""
    if isinstance(exc, ApiError):
        return problem(exc.status, exc.error, exc.detail, **exc.extra)
    if isinstance(exc, Unauthorized):
        return problem(401, "unauthorized", str(exc))
    if isinstance(exc, HTTPException):  # e.g. 413 from the body-size limit
        return problem(exc.status_code, _HTTP_CODES.get(exc.status_code, "bad_request"), exc.detail)
    if isinstance(exc, ClientDisconnect):
        return problem(400, "bad_request", "The client went away while sending the request.")
    if isinstance(exc, errors.SupbotError):
        status, code = next((s, c) for kind, s, c in _STATUS if isinstance(exc, kind))
        extra: dict[str, Any] = {}
        if isinstance(exc, errors.NoSuchProcess):
            extra["suggestions"] = exc.suggestions
        if isinstance(exc, errors.AmbiguousName):
            extra["matches"] = exc.matches
        if isinstance(exc, errors.NodeUnreachable):
            extra["node"] = exc.node
        return problem(status, code, str(exc), **extra)
    return internal(exc)


def internal(exc: BaseException) -> JSONResponse:
    """A bug: the traceback goes to the log under an id; the caller gets only the id."""
    error_id = uuid.uuid4().hex[:8]
    log.error("API error %s", error_id, exc_info=(type(exc), exc, exc.__traceback__))
    return problem(500, "internal", f"error id {error_id}; the details are in supbot's log.")
