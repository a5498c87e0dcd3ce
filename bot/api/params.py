"""Query-string and body parsing: a bad value is a 400 with one sentence, never a 500."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from bot.api.problems import ApiError

_TRUE, _FALSE = ("true", "1", "yes", "on"), ("false", "0", "no", "off", "")


def bad(detail: str) -> ApiError:
    return ApiError(400, "bad_request", detail)


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
    raw = request.query_params.get(name, "false").lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    raise bad(f"`{name}` must be true or false, got {raw!r}.")


def choice(request: Request, name: str, options: tuple[str, ...], default: str) -> str:
    value = request.query_params.get(name, default)
    if value not in options:
        raise bad(f"`{name}` must be one of {', '.join(options)}, got {value!r}.")
    return value


async def json_object(request: Request) -> dict[str, Any]:
    """The JSON object in the body; an empty body is an empty object."""
    body = await request.body()
    if not body.strip():
        return {}
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise bad("The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise bad('The request body must be a JSON object, like {"args": ["--force"]}.')
    return data
