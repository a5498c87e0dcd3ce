"""Laravel tasks as JSON, the same for `supbot jobs --json` and GET /api/v1/jobs.

Times are ISO-8601 in the task's timezone (with its offset), so a script needs no zone table.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bot.scheduler.laravel_jobs import LaravelView


def iso(epoch: float, tz_name: str) -> str:
    """'2023-01-01T14:00:00+09:00'."""
    return datetime.fromtimestamp(epoch, ZoneInfo(tz_name)).isoformat()


def laravel_json(view: LaravelView) -> dict[str, Any]:
    task, tz = view.task, view.timezone
    return {
        "name": task.name,
        "command": task.command,
        "source": view.source,
        "expression": task.expression,
        "schedule_description": view.description,
        "description": task.description,
        "timezone": tz,
        "repeat_seconds": task.repeat_seconds,
        "next_runs": [iso(t, tz) for t in view.next_runs],
        "laravel_next_due": iso(task.next_due, tz) if task.next_due is not None else None,
        "laravel_next_due_text": task.next_due_text,
        "laravel_agrees": view.agrees,
        "also_job": view.also_job or None,
        "can_run": view.can_run,
    }


def laravel_list_json(views: tuple[LaravelView, ...] | list[LaravelView]) -> list[dict[str, Any]]:
    return [laravel_json(v) for v in views]
