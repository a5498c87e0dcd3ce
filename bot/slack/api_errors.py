"""How many Slack Web API calls failed, by method and error, in this process: what /metrics
exports as `supbot_slack_api_errors_total`. Counted where supbot calls Slack (bot/slack/webapi.py
and the alerts Deliverer); a process's counts start at 0 when it starts, as Prometheus
counters do. No slack_sdk import: the metrics read this without it."""

from __future__ import annotations

import threading
from collections.abc import Callable

NOT_JSON = "Received a response in a non-JSON format"  # what slack_sdk puts in `error` then
_counts: dict[tuple[str, str], int] = {}
_lock = threading.Lock()
_watchers: list[Callable[[str, str], None]] = []


def count(method: str, error: str) -> None:
    """One failed call of `method` ("chat.postMessage"): Slack's error code ("not_in_channel",
    "ratelimited"), or the transport error's type when Slack did not answer."""
    with _lock:
        _counts[(method, error)] = _counts.get((method, error), 0) + 1
        watchers = list(_watchers)
    for watcher in watchers:
        watcher(method, error)


def watch(watcher: Callable[[str, str], None]) -> Callable[[], None]:
    """Call `watcher(method, error)` on each failure counted; returns what stops it."""
    with _lock:
        _watchers.append(watcher)

    def unwatch() -> None:
        with _lock:
            if watcher in _watchers:
                _watchers.remove(watcher)

    return unwatch


def unreachable(error: str) -> bool:
    """The failure says Slack did not answer (a transport error's type, an HTTP 5xx), not
    that it refused this one call (its error codes are lower_case: `not_in_channel`)."""
    return error.startswith("http_5") or error[:1].isupper()


def counts() -> dict[tuple[str, str], int]:
    """(method, error) → failed calls so far."""
    with _lock:
        return dict(_counts)


def error_of(exc: BaseException) -> str:
    """Slack's error code of a SlackApiError; `http_<status>` when Slack answered no code or
    not in JSON (a proxy's error page, a 503); else the exception's type name. Never a token,
    never a page's text."""
    response = getattr(exc, "response", None)
    data = getattr(response, "data", None)
    status = getattr(response, "status_code", None)
    error = data.get("error") if isinstance(data, dict) else None
    if (
        error
        and not str(error).startswith(NOT_JSON)
        and not (isinstance(status, int) and status >= 500)
    ):
        return str(error)
    return f"http_{status}" if isinstance(status, int) else type(exc).__name__


def dotted(method: str) -> str:
    """slack_sdk's `chat_postMessage` as Slack names it: `chat.postMessage`."""
    return method.replace("_", ".", 1)
