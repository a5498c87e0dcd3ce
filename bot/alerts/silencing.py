"""Silences as the incident engine applies them: which silence covers a crash, counting it,
and opening the [[silences]] windows that are due (any process may open one: its slot is a
unique key, so it is opened once however many hosts see it first).

Times are the database's clock, read once per batch, so hosts agree on what is in force.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from croniter import croniter

from bot.alerts.silence_match import covers
from bot.alerts.silence_records import Silence
from bot.config import SilenceWindow

if TYPE_CHECKING:
    from sqlalchemy import Connection


def due_slot(window: SilenceWindow, tz: ZoneInfo, now: float) -> float | None:
    """The start of the window's slot in force at `now`, if one is."""
    start = float(croniter(window.schedule, datetime.fromtimestamp(now, tz)).get_prev(float))
    # croniter's get_prev is strictly before `now`: a slot starting this very second counts.
    nxt = float(croniter(window.schedule, datetime.fromtimestamp(now - 1, tz)).get_next(float))
    if nxt <= now:
        start = nxt
    return start if start + window.duration > now else None


def window_key(window: SilenceWindow, slot: float) -> str:
    return f"{window.schedule}|{window.match}|{int(slot)}"


def open_due_windows(
    db: Connection, windows: tuple[SilenceWindow, ...], tz: ZoneInfo, now: float
) -> list[SilenceWindow]:
    """Open every window whose slot is in force; returns those this call opened."""
    from bot.storage import silences as q

    opened = []
    for window in windows:
        slot = due_slot(window, tz, now)
        if slot is None:
            continue
        key = window_key(window, slot)
        if q.open_window(db, key, window.match, window.reason, slot, slot + window.duration):
            opened.append(window)
    return opened


class Silencing:
    """The silences in force for one batch of events (`load` first, in the batch's block)."""

    def __init__(self, windows: tuple[SilenceWindow, ...] = (), timezone: str = "UTC") -> None:
        self.windows, self.tz = windows, ZoneInfo(timezone)
        self.active: list[Silence] = []

    def load(self, db: Connection, now: float) -> None:
        from bot.storage import silences as q

        if self.windows:
            open_due_windows(db, self.windows, self.tz, now)
        self.active = q.active(db, now)

    def hit(self, db: Connection, node: str, process: str, crashes: int) -> Silence | None:
        """The silence covering the target, with the crashes counted in it; None if none."""
        from bot.storage import silences as q

        found = next((s for s in self.active if covers(s.match, node, process)), None)
        if found is not None:
            q.hit(db, found.id, node, process, crashes)
        return found
