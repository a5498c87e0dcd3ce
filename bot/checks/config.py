"""`[[checks]]` read into CheckSettings, every problem reported with its key."""

from __future__ import annotations

import re
from urllib.parse import urlparse

from bot.config import CheckSettings
from bot.config_reader import Reader
from bot.sizes import parse_size

_KNOWN = {
    "name", "programs", "memory_max", "cpu_max", "for", "action", "cooldown",
    "restarts_per_hour", "http", "timeout", "fail_after", "interval",
}  # fmt: skip
_PERCENT = re.compile(r"(\d+(?:\.\d+)?)\s*%")


def read_checks(top: Reader) -> tuple[CheckSettings, ...]:
    out = []
    for i, (path, table) in enumerate(top.table_list("checks")):
        check = _read_one(Reader(table, path, top.problems, _KNOWN), i)
        if check is not None:
            out.append(check)
    return tuple(out)


def _read_one(r: Reader, index: int) -> CheckSettings | None:
    programs = r.strings("programs", required=True)
    memory = _size(r, "memory_max")
    cpu = _percent(r, "cpu_max")
    http = r.text("http")
    if http is not None and urlparse(http).scheme not in ("http", "https"):
        r.problem("http", f"expected an http:// or https:// URL, got {http!r}")
    if memory is None and cpu is None and http is None:
        r.problem("programs", "a check needs memory_max, cpu_max or http (or several)")
    fail_after = r.get("fail_after", int, 3)
    if fail_after < 1:
        r.problem("fail_after", f"must be at least 1, got {fail_after}")
    limit = r.get("restarts_per_hour", int, 3)
    if limit < 1:
        r.problem("restarts_per_hour", f"must be at least 1, got {limit}")
    interval = r.duration("interval", 10.0)
    if interval < 1:
        r.problem("interval", "must be at least 1s")
    default_name = f"{(programs or ('check',))[0]}#{index + 1}"
    return CheckSettings(
        name=r.text("name", default_name) or default_name,
        programs=programs,
        memory_max=memory,
        cpu_max=cpu,
        sustain=r.duration("for", 0.0),
        action=r.choice("action", ("alert", "restart"), "alert"),
        cooldown=r.duration("cooldown", 600.0),
        restarts_per_hour=max(1, limit),
        http=http,
        timeout=r.duration("timeout", 5.0),
        fail_after=max(1, fail_after),
        interval=max(1.0, interval),
    )


def _size(r: Reader, key: str) -> int | None:
    if key not in r.table:
        return None
    try:
        return parse_size(r.table[key])
    except ValueError as exc:
        r.problem(key, str(exc))
        return None


def _percent(r: Reader, key: str) -> float | None:
    """`"90%"` (of one core; `"250%"` for 2.5 cores) or a number."""
    raw = r.table.get(key)
    if raw is None:
        return None
    if isinstance(raw, int | float) and not isinstance(raw, bool) and raw > 0:
        return float(raw)
    match = _PERCENT.fullmatch(raw.strip()) if isinstance(raw, str) else None
    if match is None or float(match.group(1)) <= 0:
        r.problem(key, f"expected a percentage of one core like '90%' or '250%', got {raw!r}")
        return None
    return float(match.group(1))
