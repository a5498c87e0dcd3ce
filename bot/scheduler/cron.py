"""Cron math in a job's timezone: next runs, due slots, and a human description.

Expressions have 5 fields, or 6 with seconds LAST (croniter's convention, which the config
validator uses too): `0 3 * * *` is 03:00, `0 3 * * * 30` is 03:00:30, `* * * * * */5` every 5 s.

DST: a wall-clock time that does not exist (spring forward) runs at the first instant after
the gap (02:30 → 03:00); a fixed time that happens twice (fall back) runs once, at its first
occurrence. Schedules whose hour field is `*` follow real time and run in both hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from functools import lru_cache
from zoneinfo import ZoneInfo

from cron_descriptor import Options, get_description
from croniter import croniter

# A slot search gives up past this many candidates (a seconds schedule over a long outage).
MAX_SLOTS = 10_000


def has_seconds(expr: str) -> bool:
    return len(expr.split()) == 6


def _fixed_hour(expr: str) -> bool:
    return expr.split()[1] != "*"


def _is_repeat(slot: datetime, tz: ZoneInfo) -> bool:
    """True for the second occurrence of an ambiguous wall-clock time (fall back)."""
    wall = slot.replace(tzinfo=None)
    first = wall.replace(tzinfo=tz, fold=0)
    return first.timestamp() != slot.timestamp()


def iter_slots(expr: str, tz_name: str, after: float) -> Iterator[float]:
    """Epoch seconds of the scheduled times strictly after `after`, in order."""
    tz = ZoneInfo(tz_name)
    start = datetime.fromtimestamp(after, tz)
    it = croniter(expr, start)
    skip_repeats = _fixed_hour(expr)
    last = after
    for _ in range(MAX_SLOTS):
        slot = it.get_next(datetime)
        epoch = slot.timestamp()
        if epoch <= last or (skip_repeats and _is_repeat(slot, tz)):
            continue
        last = epoch
        yield epoch


def next_runs(expr: str, tz_name: str, after: float, count: int = 3) -> list[float]:
    out: list[float] = []
    for epoch in iter_slots(expr, tz_name, after):
        out.append(epoch)
        if len(out) == count:
            break
    return out


def slots_between(expr: str, tz_name: str, after: float, until: float) -> list[float]:
    """Scheduled times in (after, until], capped at MAX_SLOTS."""
    out: list[float] = []
    for epoch in iter_slots(expr, tz_name, after):
        if epoch > until:
            break
        out.append(epoch)
    return out


def period(expr: str) -> float:
    """How long one slot is 'now': a minute for 5 fields, a second with the seconds field."""
    return 1.0 if has_seconds(expr) else 60.0


def current_slot(expr: str, tz_name: str, now: float) -> float | None:
    """The slot that makes the job due at `now` (within one period), as `schedule:run` sees it."""
    slots = slots_between(expr, tz_name, now - period(expr), now)
    return slots[-1] if slots else None


@lru_cache(maxsize=256)
def describe(expr: str) -> str:
    """'At 03:00 AM', 'Every 5 seconds' (cron-descriptor wants seconds first)."""
    parts = expr.split()
    if len(parts) == 6:
        parts = [parts[5], *parts[:5]]
    options = Options()
    options.verbose = False
    try:
        return str(get_description(" ".join(parts), options))
    except Exception:  # cron-descriptor raises bare Exceptions; a description is optional
        return expr


def local_time(epoch: float, tz_name: str, seconds: bool = False) -> str:
    """'2024-03-31 03:00 CEST' in the job's timezone."""
    fmt = "%Y-%m-%d %H:%M:%S %Z" if seconds else "%Y-%m-%d %H:%M %Z"
    return datetime.fromtimestamp(epoch, ZoneInfo(tz_name)).strftime(fmt)


def utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)
