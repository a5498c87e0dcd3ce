"""Reading the routing keys of `[[channels]]` / `[alerts]` and the `[[silences]]` windows,
every problem reported with its key."""

from __future__ import annotations

from croniter import croniter

from bot.config import EVENT_KINDS, SilenceWindow
from bot.config_reader import Reader

ROUTING_KEYS = {"alerts_include", "alerts_exclude", "alert_on", "mention"}
_WINDOW_KEYS = {"schedule", "for", "match", "reason"}
LONGEST_WINDOW = 7 * 86400.0


def read_alert_on(r: Reader) -> tuple[str, ...]:
    """`alert_on`: event kinds from EVENT_KINDS (default: all of them)."""
    kinds = r.strings("alert_on", EVENT_KINDS)
    unknown = [k for k in kinds if k not in EVENT_KINDS]
    for kind in unknown:
        r.problem("alert_on", f"unknown event kind {kind!r}; use some of {', '.join(EVENT_KINDS)}")
    return tuple(k for k in kinds if k in EVENT_KINDS)


def read_windows(top: Reader) -> tuple[SilenceWindow, ...]:
    out = []
    for path, table in top.table_list("silences"):
        r = Reader(table, path, top.problems, _WINDOW_KEYS)
        schedule = r.text("schedule", "", required=True) or ""
        if schedule and not croniter.is_valid(schedule):
            r.problem("schedule", f'invalid cron expression {schedule!r} (like "0 2 * * 0")')
        if "for" not in table:
            r.problem("for", 'required: how long each window lasts, like "1h"')
        duration = r.duration("for", 0.0) or 0.0
        if "for" in table and not 60 <= duration <= LONGEST_WINDOW:
            r.problem("for", "must be between 1m and 7d")
        match = r.text("match", "", required=True) or ""  # a program, glob or @node
        out.append(SilenceWindow(schedule, duration, match.strip(), r.text("reason", "") or ""))
    return tuple(out)
