"""Snoozes: no alert messages for a process for a while. Crashes are still counted, and the
count is shown when snoozes are listed (nothing is dropped silently).

`/sup snooze` lists, `/sup snooze <proc> [1h|24h]` snoozes, `/sup unsnooze <proc>` cancels.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager

from bot import errors
from bot.audit import AuditEntry, AuditLog
from bot.auth import Access
from bot.domain import ProcessInfo
from bot.durations import DurationError, format_duration, parse_duration
from bot.grammar import Command, quote
from bot.processes import ProcessService
from bot.replies import Choice, MessageReply, Reply
from bot.state import Store
from bot.usertext import quote as typed

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_snoozes (
    node TEXT NOT NULL,
    process TEXT NOT NULL,
    until REAL NOT NULL,
    by TEXT NOT NULL,
    created REAL NOT NULL,
    suppressed INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (node, process)
)
"""

DEFAULT = 3600.0
LONGEST = 7 * 86400.0


def ensure(store: Store) -> None:
    store.ensure(SCHEMA)


def active(db: sqlite3.Connection, node: str, process: str) -> bool:
    row = db.execute(
        "SELECT 1 FROM alert_snoozes WHERE node=? AND process=? AND until>?",
        (node, process, time.time()),
    ).fetchone()
    return row is not None


def all_active(store: Store) -> dict[tuple[str, str], float]:
    """Every snooze in force: {(node, group:name): until}."""
    with store.connect() as db:
        rows = db.execute(
            "SELECT node, process, until FROM alert_snoozes WHERE until>?", (time.time(),)
        ).fetchall()
    return {(r["node"], r["process"]): r["until"] for r in rows}


def count_suppressed(db: sqlite3.Connection, node: str, process: str, n: int) -> None:
    db.execute(
        "UPDATE alert_snoozes SET suppressed=suppressed+? WHERE node=? AND process=?",
        (n, node, process),
    )


def current(db: sqlite3.Connection, node: str, process: str) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM alert_snoozes WHERE node=? AND process=? AND until>?",
        (node, process, time.time()),
    ).fetchone()
    return row


def _show_on_alert(db: sqlite3.Connection, node: str, process: str) -> None:
    """Edit the open incident's message so the channel sees the snooze (or its end)."""
    from bot.alerts import outbox

    row = db.execute(
        "SELECT id, channel FROM alert_incidents WHERE node=? AND process=? AND status='open' "
        "AND ts IS NOT NULL ORDER BY id DESC LIMIT 1",
        (node, process),
    ).fetchone()
    if row is not None:
        outbox.enqueue(db, row["channel"], "incident", row["id"])


def _label(node: str, process: str) -> str:
    group, _, name = process.partition(":")
    return f"{name if group == name else process}@{node}"


class SnoozeService:
    def __init__(self, store: Store, processes: ProcessService, audit: AuditLog) -> None:
        self.store, self.processes, self.audit = store, processes, audit
        ensure(store)

    def listing(self, access: Access) -> list[tuple[str, float, str, int]]:
        """(label, until, by, suppressed crashes) of the active snoozes the asker can see."""
        visible = {(p.node, p.full_name) for p in self.processes.visible_processes(access)}
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT * FROM alert_snoozes WHERE until>? ORDER BY until", (time.time(),)
            ).fetchall()
        return [
            (_label(r["node"], r["process"]), r["until"], r["by"], r["suppressed"])
            for r in rows
            if (r["node"], r["process"]) in visible
        ]

    def snooze(self, access: Access, pattern: str, seconds: float) -> list[str]:
        found = self.processes.find(access, pattern, "snooze")
        labels = [f"{p.display_name}@{p.node}" for p in found]
        a = access.actor
        # On record before the change: no record, no snooze (AuditUnavailable).
        attempts = self.audit.begin(a.id, a.surface, "snooze", labels, a.channel)
        now = time.time()
        with self._finishing(attempts), self.store.transaction() as db:
            for p in found:
                db.execute(
                    "INSERT INTO alert_snoozes(node, process, until, by, created) VALUES (?,?,?,?,?) "
                    "ON CONFLICT(node, process) DO UPDATE SET until=excluded.until, by=excluded.by, "
                    "created=excluded.created, suppressed=CASE WHEN alert_snoozes.until>? "
                    "THEN alert_snoozes.suppressed ELSE 0 END",
                    (p.node, p.full_name, now + seconds, access.actor.id, now, now),
                )
                _show_on_alert(db, p.node, p.full_name)
        return labels

    @contextmanager
    def _finishing(self, attempts: list[AuditEntry]) -> Iterator[None]:
        """Complete the audited attempts with the outcome of the block."""
        try:
            yield
        except BaseException as exc:
            for attempt in attempts:
                self.audit.finish(attempt, "failed", 0.0, f"not saved: {exc}")
            raise
        for attempt in attempts:
            self.audit.finish(attempt, "ok")

    def unsnooze(self, access: Access, pattern: str) -> list[tuple[str, int]]:
        found = self.processes.find(access, pattern, "snooze")
        active = self._snoozed(found)
        a = access.actor
        # On record before the change: no record, no unsnooze (AuditUnavailable).
        attempts = self.audit.begin(a.id, a.surface, "unsnooze", active, a.channel)
        out = []
        with self._finishing(attempts), self.store.transaction() as db:
            for p in found:
                row = db.execute(
                    "SELECT suppressed, until FROM alert_snoozes WHERE node=? AND process=?",
                    (p.node, p.full_name),
                ).fetchone()
                if row is not None and row["until"] > time.time():
                    out.append((f"{p.display_name}@{p.node}", int(row["suppressed"])))
                db.execute(
                    "DELETE FROM alert_snoozes WHERE node=? AND process=?", (p.node, p.full_name)
                )
                _show_on_alert(db, p.node, p.full_name)
        return out

    def _snoozed(self, found: list[ProcessInfo]) -> list[str]:
        """Labels of the processes in `found` with an active snooze."""
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT node, process FROM alert_snoozes WHERE until>?", (time.time(),)
            ).fetchall()
        active = {(r["node"], r["process"]) for r in rows}
        return [f"{p.display_name}@{p.node}" for p in found if (p.node, p.full_name) in active]

    # --- /sup verbs ----------------------------------------------------------------------

    def handle_snooze(self, access: Access, command: Command) -> Reply:
        if not command.args:
            return self._list_reply(access)
        seconds = _duration(command.args[1] if len(command.args) > 1 else "")
        labels = self.snooze(access, command.args[0], seconds)
        until = time.time() + seconds
        return MessageReply(
            f"🔕 Alerts for {', '.join(labels)} snoozed for {format_duration(seconds)} "
            f"(until {time.strftime('%H:%M', time.localtime(until))}); crashes are still counted.",
            choices=tuple(
                Choice(f"Unsnooze {label}", quote("unsnooze", label)) for label in labels[:10]
            ),
        )

    def handle_unsnooze(self, access: Access, command: Command) -> Reply:
        done = self.unsnooze(access, command.args[0])
        if not done:
            return MessageReply(f"{typed(command.args[0])} was not snoozed.")
        parts = [
            f"{label}" + (f" ({n} crash{'es' if n != 1 else ''} while snoozed)" if n else "")
            for label, n in done
        ]
        return MessageReply("🔔 Alerts back on for " + ", ".join(parts) + ".")

    def _list_reply(self, access: Access) -> Reply:
        rows = self.listing(access)
        if not rows:
            return MessageReply("No alerts are snoozed. Snooze one with `snooze <process> 1h`.")
        lines = [
            f"🔕 {label} until {time.strftime('%Y-%m-%d %H:%M', time.localtime(until))} "
            f"by {by}" + (f" — {n} crash{'es' if n != 1 else ''} suppressed" if n else "")
            for label, until, by, n in rows
        ]
        choices = tuple(Choice(f"Unsnooze {r[0]}", quote("unsnooze", r[0])) for r in rows[:10])
        return MessageReply("Snoozed alerts:\n" + "\n".join(lines), choices=choices)


def _duration(text: str) -> float:
    if not text:
        return DEFAULT
    try:
        seconds = parse_duration(text)
    except DurationError:
        raise errors.UsageError(
            f"{typed(text, 20)} is not a duration; use e.g. `1h` or `24h`."
        ) from None
    if not 60 <= seconds <= LONGEST:
        raise errors.UsageError("Snooze for between 1 minute and 7 days, e.g. `1h` or `24h`.")
    return seconds


def register(
    dispatcher: object, store: Store, processes: ProcessService, audit: AuditLog
) -> SnoozeService:
    """Plug `snooze` and `unsnooze` into the dispatcher."""
    service = SnoozeService(store, processes, audit)
    dispatcher.register("snooze", service.handle_snooze)  # type: ignore[attr-defined]
    dispatcher.register("unsnooze", service.handle_unsnooze)  # type: ignore[attr-defined]
    dispatcher.snoozes = lambda: all_active(store)  # type: ignore[attr-defined]
    return service
