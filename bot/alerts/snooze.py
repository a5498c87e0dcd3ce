"""Snoozes: no alert messages for a process for a while. Crashes are still counted, and the
count is shown when snoozes are listed (nothing is dropped silently).

`/sup snooze` lists, `/sup snooze <proc> [1h|24h]` snoozes, `/sup unsnooze <proc>` cancels.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bot import errors
from bot.audit import AuditLog
from bot.auth import Access
from bot.dispatch import Handler
from bot.domain import ProcessInfo
from bot.durations import DurationError, format_duration, parse_duration
from bot.grammar import Command, quote
from bot.names import node_label
from bot.processes import ProcessService
from bot.replies import Choice, MessageReply, Reply
from bot.storage.alerts.store import AlertStore
from bot.usertext import quote as typed

if TYPE_CHECKING:
    from bot.storage.alerts.tx import AlertTx

DEFAULT = 3600.0
LONGEST = 7 * 86400.0


def in_force(alerts: AlertStore) -> dict[tuple[str, str], float]:
    """Every snooze in force: {(node, group:name): until}."""
    return {(z.node, z.process): z.until for z in alerts.snoozes()}


def _show_on_alert(tx: AlertTx, node: str, process: str) -> None:
    """Edit the open incident's message so the channel sees the snooze (or its end)."""
    inc = tx.posted_open_incident(node, process)
    if inc is not None:
        tx.enqueue(inc.channel, "incident", inc.id)


class SnoozeService:
    def __init__(self, alerts: AlertStore, processes: ProcessService, audit: AuditLog) -> None:
        self.alerts, self.processes, self.audit = alerts, processes, audit

    def listing(self, access: Access) -> list[tuple[str, float, str, int]]:
        """(label, until, by, suppressed crashes) of the active snoozes the asker can see."""
        visible = {(p.node, p.full_name) for p in self.processes.visible_processes(access)}
        return [
            (node_label(z.node, z.process), z.until, z.by, z.suppressed)
            for z in self.alerts.snoozes()
            if (z.node, z.process) in visible
        ]

    def snooze(self, access: Access, pattern: str, seconds: float) -> list[str]:
        found = self.processes.find(access, pattern, "snooze")
        labels = [node_label(p.node, p.full_name) for p in found]
        a = access.actor
        # On record before the change: no record, no snooze (AuditUnavailable).
        attempts = self.audit.begin(a.id, a.surface, "snooze", labels, a.channel)
        now = time.time()
        with self.audit.finishing(attempts), self.alerts.transaction() as tx:
            for p in found:
                tx.put_snooze(p.node, p.full_name, now + seconds, access.actor.id, now)
                _show_on_alert(tx, p.node, p.full_name)
        return labels

    def unsnooze(self, access: Access, pattern: str) -> list[tuple[str, int]]:
        found = self.processes.find(access, pattern, "snooze")
        active = self._snoozed(found)
        a = access.actor
        # On record before the change: no record, no unsnooze (AuditUnavailable).
        attempts = self.audit.begin(a.id, a.surface, "unsnooze", active, a.channel)
        out = []
        with self.audit.finishing(attempts), self.alerts.transaction() as tx:
            for p in found:
                snoozed = tx.snooze_of(p.node, p.full_name)
                if snoozed is not None and snoozed.until > time.time():
                    out.append((node_label(p.node, p.full_name), snoozed.suppressed))
                tx.delete_snooze(p.node, p.full_name)
                _show_on_alert(tx, p.node, p.full_name)
        return out

    def _snoozed(self, found: list[ProcessInfo]) -> list[str]:
        """Labels of the processes in `found` with an active snooze."""
        active = in_force(self.alerts)
        return [node_label(p.node, p.full_name) for p in found if (p.node, p.full_name) in active]

    # --- /sup verbs ----------------------------------------------------------------------

    def handlers(self) -> dict[str, Handler]:
        """The verbs this feature adds to `/sup` (bot/wiring.py plugs them in)."""
        return {"snooze": self.handle_snooze, "unsnooze": self.handle_unsnooze}

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
