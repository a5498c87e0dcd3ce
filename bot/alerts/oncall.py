"""On call: acknowledge (take ownership of), unacknowledge and resolve incidents, and list
the open ones. `/sup ack|unack <id>`, `/sup resolve <id> [note…]`, `/sup incidents`; the
alert's buttons run the same verbs, so every click is authorized again like a typed command.

Who may: an operator of the asker's channel binding for the incident's program (for a node
or listener incident: for any program on that node). Every change is audited first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot import errors
from bot.alerts.pagers import Pager
from bot.alerts.records import Incident
from bot.audit import AuditLog
from bot.auth import Access
from bot.dispatch import Handler
from bot.durations import format_duration
from bot.grammar import Command, quote
from bot.names import node_label
from bot.processes import ProcessService
from bot.replies import Choice, MessageReply, Reply
from bot.storage.alerts.store import AlertStore
from bot.usertext import quote as typed

if TYPE_CHECKING:
    from bot.storage.alerts.tx import AlertTx

NOTE_MAX = 500
MAX_ID = 2**63 - 1

Change = Callable[["AlertTx", Incident, float], None]


def label(inc: Incident) -> str:
    if inc.kind == "process":
        return node_label(inc.node, inc.process)
    return f"{inc.kind} {inc.node}"


def owner(by: str) -> str:
    return f"<@{by}>" if by.startswith(("U", "W")) else by


class UnknownIncident(errors.SupbotError):
    """No incident has that number (the API answers 404)."""


class OnCallService:
    def __init__(
        self, alerts: AlertStore, processes: ProcessService, audit: AuditLog, pager: Pager
    ) -> None:
        self.alerts, self.processes, self.audit, self.pager = alerts, processes, audit, pager

    # --- the changes -------------------------------------------------------------------

    def ack(self, access: Access, incident_id: int) -> Incident:
        by = access.actor.id

        def take(tx: AlertTx, inc: Incident, now: float) -> None:
            tx.set_owner(inc.id, by, now)
            self.pager.tell(tx, inc, "acknowledge")  # mirrored: the pager stops paging

        return self._change(access, incident_id, "ack", take)

    def unack(self, access: Access, incident_id: int) -> Incident:
        return self._change(
            access, incident_id, "unack", lambda tx, i, now: tx.set_owner(i.id, None, None)
        )

    def resolve(self, access: Access, incident_id: int, note: str = "") -> Incident:
        note = note.strip()[:NOTE_MAX]

        def close(tx: AlertTx, inc: Incident, now: float) -> None:
            tx.resolve_incident(inc.id, now, note)
            self.pager.tell(tx, inc, "resolve")

        return self._change(access, incident_id, "resolve", close)

    def _change(self, access: Access, incident_id: int, action: str, apply: Change) -> Incident:
        a = access.actor
        try:
            inc = self._visible(access, incident_id, "ack")
        except errors.Forbidden as exc:  # a refused click is on record too
            target = f"#{incident_id}"
            self.audit.record(a.id, a.surface, action, target, "refused", a.channel, 0.0, str(exc))
            raise
        if inc.status != "open":
            raise errors.UsageError(f"Incident {incident_id} ({label(inc)}) is already closed.")
        # On record before the change: no record, no change (AuditUnavailable).
        attempts = self.audit.begin(a.id, a.surface, action, [f"#{inc.id} {label(inc)}"], a.channel)
        with self.audit.finishing(attempts), self.alerts.transaction() as tx:
            apply(tx, inc, time.time())
            if inc.ts is not None:  # the alert message shows the owner (or the closing)
                tx.enqueue(inc.channel, "incident", inc.id)
        return self.alerts.incident(inc.id)

    # --- who may see / change which incident -------------------------------------------

    def _visible(self, access: Access, incident_id: int, action: str) -> Incident:
        inc = None
        if 0 < incident_id <= MAX_ID:  # beyond SQLite's integers there is no such incident
            with self.alerts.transaction() as tx:
                inc = tx.incident(incident_id)
        if inc is None:
            raise UnknownIncident(
                f"There is no incident {incident_id}; `incidents` lists the open ones."
            )
        pattern = node_label(inc.node, inc.process) if inc.kind == "process" else f"*@{inc.node}"
        self.processes.find(access, pattern, action)  # refuses when the role is too low
        return inc

    def open_incidents(self, access: Access) -> list[Incident]:
        """The open incidents of the programs (nodes) the asker can see."""
        visible = {(p.node, p.full_name) for p in self.processes.visible_processes(access)}
        nodes = {node for node, _ in visible}
        return [
            i
            for i in self.alerts.open_incidents()
            if (i.node, i.process) in visible or (i.kind != "process" and i.node in nodes)
        ]

    # --- /sup verbs ----------------------------------------------------------------------

    def handlers(self) -> dict[str, Handler]:
        """The verbs this feature adds to `/sup` (bot/wiring.py plugs them in)."""
        return {
            "ack": self.handle_ack,
            "unack": self.handle_unack,
            "resolve": self.handle_resolve,
            "incidents": self.handle_incidents,
        }

    def handle_ack(self, access: Access, command: Command) -> Reply:
        inc = self.ack(access, _incident_id(command.args[0]))
        return MessageReply(
            f"👀 You own incident {inc.id} ({label(inc)}); escalation is stopped.",
            choices=(Choice("Unack", quote("unack", str(inc.id))),),
        )

    def handle_unack(self, access: Access, command: Command) -> Reply:
        inc = self.unack(access, _incident_id(command.args[0]))
        return MessageReply(f"Incident {inc.id} ({label(inc)}) has no owner now.")

    def handle_resolve(self, access: Access, command: Command) -> Reply:
        note = " ".join(command.args[1:])
        inc = self.resolve(access, _incident_id(command.args[0]), note)
        return MessageReply(f"☑️ Incident {inc.id} ({label(inc)}) resolved.")

    def handle_incidents(self, access: Access, command: Command) -> Reply:
        found = self.open_incidents(access)
        if not found:
            return MessageReply("No open incidents.")
        now = time.time()
        lines = [incident_line(i, now) for i in found[:50]]
        if len(found) > 50:
            lines.append(f"… and {len(found) - 50} more")
        choices = tuple(
            Choice(f"Ack {i.id}", quote("ack", str(i.id))) for i in found if not i.acked_by
        )[:10]
        return MessageReply("Open incidents:\n" + "\n".join(lines), choices=choices)


def incident_line(inc: Incident, now: float) -> str:
    age = format_duration(max(0.0, now - inc.opened))
    who = f"👀 acked by {owner(inc.acked_by)}" if inc.acked_by else "not acked"
    crashes = f"{inc.crashes} crash{'es' if inc.crashes != 1 else ''}"
    return f"#{inc.id} {label(inc)} — {inc.state}, {crashes}, open {age}, {who}"


def _incident_id(text: str) -> int:
    digits = text.removeprefix("#")
    if not digits.isdigit():
        raise errors.UsageError(
            f"{typed(text, 20)} is not an incident number; `incidents` lists them (e.g. `ack 12`)."
        )
    return int(digits)
