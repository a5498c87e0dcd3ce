"""Durations: seconds as a number, or strings such as "30s", "5m", "1h30m", "90d"."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}
_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|s|m|h|d|w)")


class DurationError(ValueError):
    """A value that is not a duration."""


def parse_duration(value: object) -> float:
    """Return seconds for a number or a string with units; raise DurationError otherwise."""
    if isinstance(value, bool):
        raise DurationError(f"expected a duration like '30s', '5m', '1h', got {value!r}")
    if isinstance(value, int | float):
        if value < 0:
            raise DurationError(f"duration must not be negative, got {value}")
        return float(value)
    if not isinstance(value, str):
        raise DurationError(f"expected a duration like '30s', '5m', '1h', got {value!r}")
    text = value.strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", text):
        return float(text)
    if not text or _PART.sub("", text):
        raise DurationError(
            f"{value!r} is not a duration; use seconds or a number with a unit "
            "(ms, s, m, h, d, w), e.g. '30s', '5m', '1h30m', '90d'"
        )
    return sum(float(n) * _UNITS[u] for n, u in _PART.findall(text))


def format_duration(seconds: float | None) -> str:
    """Short human form: '45s', '3m 12s', '2h 5m', '4d 3h'."""
    if seconds is None:
        return "-"
    s = int(max(0, seconds))
    if s < 60:
        return f"{s}s"
    if s < 3600:
        return f"{s // 60}m {s % 60}s"
    if s < 86400:
        return f"{s // 3600}h {(s % 3600) // 60}m"
    return f"{s // 86400}d {(s % 86400) // 3600}h"
