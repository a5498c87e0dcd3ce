"""The digest: crashes and restarts per process since the last one, what is not running now,
failed and missed jobs (when the scheduler's tables exist), an uptime sparkline per process.
Scheduled by `[alerts] digest` (cron, in `timezone`); one process claims each run."""

from __future__ import annotations

import sqlite3
import time
from collections import defaultdict
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from croniter import croniter
from slack_sdk.models.blocks import HeaderBlock, MarkdownTextObject, SectionBlock

from bot.alerts import outbox, render
from bot.render.blocks import escape

LAST_KEY = "alerts.digest.last"
BARS = "▁▂▃▄▅▆▇█"
BUCKETS = 24
COUNTED = "outcome NOT IN ('duplicate', 'expected stop', 'ignored', '')"


def sparkline(down: list[tuple[float, float]], since: float, until: float) -> str:
    """One bar per bucket, its height the share of the bucket the process was up."""
    width = max(1.0, (until - since) / BUCKETS)
    bars = []
    for i in range(BUCKETS):
        start, end = since + i * width, since + (i + 1) * width
        lost = sum(max(0.0, min(end, b) - max(start, a)) for a, b in down)
        up = max(0.0, 1.0 - lost / width)
        bars.append(BARS[min(len(BARS) - 1, int(up * (len(BARS) - 1) + 0.5))])
    return "".join(bars)


def _down_intervals(
    rows: list[sqlite3.Row], until: float
) -> dict[tuple[str, str], list[tuple[float, float]]]:
    """From crash to the next RUNNING, per process."""
    out: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    down_at: dict[tuple[str, str], float] = {}
    for r in rows:
        key = (r["node"], r["process"])
        if r["state"] == "RUNNING":
            if key in down_at:
                out[key].append((down_at.pop(key), r["stop"]))
        elif key not in down_at:
            down_at[key] = r["stop"]
    for key, start in down_at.items():
        out[key].append((start, until))
    return out


def build(services: Any, since: float, until: float, route: Any, channel: str) -> render.Message:
    """The digest for one channel: the processes whose alerts go there."""
    with services.store.connect() as db:
        rows = db.execute(
            f"SELECT * FROM alert_events WHERE processed=1 AND stop BETWEEN ? AND ? AND ("
            f"state='RUNNING' OR (state IN ('EXITED','BACKOFF') AND {COUNTED})) ORDER BY stop",
            (since, until),
        ).fetchall()
        jobs = _jobs(db, since, until)
    rows = [r for r in rows if route(r["node"], r["process"]) == channel]
    crashes: dict[tuple[str, str], int] = defaultdict(int)
    starts: dict[tuple[str, str], int] = defaultdict(int)
    for r in rows:
        (starts if r["state"] == "RUNNING" else crashes)[(r["node"], r["process"])] += 1
    down = _down_intervals(rows, until)
    day = f"{render.when(since)} → {render.when(until)}"
    lines = []
    for key in sorted(set(crashes) | set(starts), key=lambda k: -crashes.get(k, 0)):
        name = escape(render.label(*key))
        spark = sparkline(down.get(key, []), since, until)
        lines.append(
            f"`{spark}` *{name}* — {crashes.get(key, 0)} crashes, {starts.get(key, 0)} starts"
        )
    statuses = services.fleet.status(fresh=True)
    stopped = [
        f"{escape(p.display_name)}@{p.node} {p.state}"
        for s in statuses
        for p in s.processes
        if not p.running and route(p.node, p.full_name) == channel
    ]
    unreachable = [s.node for s in statuses if s.error]
    blocks: list[Any] = [HeaderBlock(text="supbot digest"), _section(f"Since {day}")]
    blocks.append(_section("*Crashes and restarts*\n" + ("\n".join(lines) or "No crashes. 🎉")))
    not_running = ", ".join(stopped) or "everything is running"
    if unreachable:
        not_running += f"\nUnreachable nodes: {', '.join(unreachable)}"
    blocks.append(_section("*Not running now*\n" + not_running))
    if jobs is not None:
        blocks.append(_section("*Jobs*\n" + jobs))
    total = sum(crashes.values())
    text = f"supbot digest: {total} crashes, {len(stopped)} processes not running"
    return text, [b.to_dict() for b in blocks]


def _section(text: str) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=text[:2900]))


def _jobs(db: sqlite3.Connection, since: float, until: float) -> str | None:
    """Failed and missed jobs, or None before the scheduler has created its tables."""
    exists = db.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='job_runs'"
    ).fetchone()
    if not exists:
        return None
    rows = db.execute(
        "SELECT job, status, COUNT(*) AS n FROM job_runs WHERE started BETWEEN ? AND ? "
        "AND status IN ('failed', 'missed', 'interrupted') GROUP BY job, status ORDER BY job",
        (since, until),
    ).fetchall()
    if not rows:
        return "No failed or missed jobs."
    return "\n".join(f"{escape(r['job'])}: {r['n']} {r['status']}" for r in rows)


def channels(settings: Any) -> list[str]:
    found = [settings.alerts.channel] if settings.alerts.channel else []
    found += [b.alerts_channel for b in settings.channels if b.alerts_channel]
    return list(dict.fromkeys(found))


def post(services: Any, route: Any, since: float, until: float | None = None) -> int:
    """Queue a digest for every alerts channel; returns how many."""
    until = until or time.time()
    queued = 0
    for channel in channels(services.settings):
        text, blocks = build(services, since, until, route, channel)
        with services.store.transaction() as db:
            outbox.enqueue(db, channel, "digest", 0, {"text": text, "blocks": blocks})
        queued += 1
    return queued


class DigestSchedule:
    """`[alerts] digest` in `timezone`; the last run is in the shared state so one process
    posts each digest and a restart does not post again."""

    def __init__(self, services: Any) -> None:
        from bot.alerts.service import router

        self.services = services
        self.expr = services.settings.alerts.digest
        self.tz = ZoneInfo(services.settings.timezone)
        self.route = router(services.settings)

    def _last(self) -> float | None:
        with self.services.store.connect() as db:
            row = db.execute("SELECT value FROM kv WHERE key=?", (LAST_KEY,)).fetchone()
        return float(row[0]) if row else None

    def due(self, now: float | None = None) -> bool:
        now = now or time.time()
        last = self._last()
        if last is None:
            self._set(None, now)  # the first start: count from now, post at the next slot
            return False
        return self._next(last) <= now

    def _next(self, last: float) -> float:
        return float(croniter(self.expr, datetime.fromtimestamp(last, self.tz)).get_next(float))

    def _set(self, expected: float | None, now: float) -> bool:
        with self.services.store.transaction() as db:
            row = db.execute("SELECT value FROM kv WHERE key=?", (LAST_KEY,)).fetchone()
            current = float(row[0]) if row else None
            if current != expected:
                return False
            db.execute(
                "INSERT INTO kv(key, value, updated) VALUES (?,?,?) ON CONFLICT(key) DO "
                "UPDATE SET value=excluded.value, updated=excluded.updated",
                (LAST_KEY, repr(now), now),
            )
        return True

    def run(self, now: float | None = None) -> bool:
        """Post the digest if one is due and no other process took it first."""
        now = now or time.time()
        last = self._last()
        if last is None or self._next(last) > now or not self._set(last, now):
            return False
        post(self.services, self.route, last, now)
        return True
