"""Query-string and body parsing: a bad value is a 400 with one sentence, never a 500."""

from __future__ import annotations

import difflib
import json
from typing import Any

from starlette.requests import Request

from bot.api.problems import ApiError
from bot.usertext import quote

MAX_BODY = 64 * 1024


def bad(detail: str) -> ApiError:
    return ApiError(400, "bad_request", detail)


def only(request: Request, known: tuple[str, ...]) -> None:
    """Refuse unknown parameters: a typo like `dryrun=true` must not apply a reload."""
    for name in request.query_params:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f" Did you mean `{close[0]}`?" if close else ""
            allowed = ", ".join(known) or "none"
            raise bad(
                f"Unknown parameter {quote(name, 40)} (this endpoint takes: {allowed}).{hint}"
            )


def text(request: Request, name: str, default: str = "") -> str:
    return request.query_params.get(name, default)


def integer(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad(f"`{name}` must be a whole number, got {raw!r}.") from None
    if not low <= value <= high:
        raise bad(f"`{name}` must be between {low} and {high}, got {value}.")
    return value


def flag(request: Request, name: str) -> bool:
    """`true` or `false`, nothing looser: `dry_run=` must not quietly mean false."""
    raw = request.query_params.get(name, "false")
    if raw not in ("true", "false"):
        raise bad(f"`{name}` must be true or false, got {raw!r}.")
    return raw == "true"


def choice(request: Request, name: str, options: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name, default)
    if value not in options:
        raise bad(f"`{name}` must be one of {', '.join(options)}, got {value!r}.")
    return value


async def _read(request: Request) -> bytes:
    """The body, refused with 413 past MAX_BODY (without reading all of it into memory)."""
    too_large = ApiError(413, "too_large", f"The request body is over {MAX_BODY // 1024} KB.")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > MAX_BODY:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_BODY:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


async def json_object(request: Request) -> dict[str, Any]:
    """The JSON object in the body; an empty body is an empty object."""
    body = await _read(request)
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise bad("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad('The request body must be a JSON object, like {"args": ["--force"]}.')
    return data
