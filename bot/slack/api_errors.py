"""How many Slack Web API calls failed, by method and error, in this process: what /metrics
exports as `supbot_slack_api_errors_total`. Counted where supbot calls Slack (bot/slack/webapi.py
and the alerts Deliverer); a process's counts start at 0 when it starts, as Prometheus
counters do. No slack_sdk import: the metrics read this without it."""

from __future__ import annotations

import threading

_counts: dict[tuple[str, str], int] = {}
_lock = threading.Lock()


def count(method: str, error: str) -> None:
    """One failed call of `method` ("chat.postMessage"): Slack's error code ("not_in_channel",
    "ratelimited"), or the transport error's type when Slack did not answer."""
    with _lock:
        _counts[(method, error)] = _counts.get((method, error), 0) + 1


def counts() -> dict[tuple[str, str], int]:
    """(method, error) → failed calls so far."""
    with _lock:
        return dict(_counts)


def error_of(exc: BaseException) -> str:
    """Slack's error code of a SlackApiError, else the exception's type name (never a token)."""
    response = getattr(exc, "response", None)
    data = getattr(response, "data", None)
    if isinstance(data, dict) and data.get("error"):
        return str(data["error"])
    status = getattr(response, "status_code", None)
    return f"http_{status}" if isinstance(status, int) else type(exc).__name__


def dotted(method: str) -> str:
    """slack_sdk's `chat_postMessage` as Slack names it: `chat.postMessage`."""
    return method.replace("_", ".", 1)
