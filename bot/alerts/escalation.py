"""Escalation: an incident nobody acknowledged is re-posted in its thread mentioning the group
of each level whose delay has passed, once per level. The levels are the incident's binding's
own `[[channels.escalation]]`, else `[[alerts.escalation]]` (or `[alerts] escalate_after` and
`escalate_to`, one level). Runs in the housekeeping loop; choosing the incidents and queuing
the replies is one transaction (`escalated` counts the levels posted), so a level is posted
once even if two processes ran it. An Ack stops it, also while a reply waits in the outbox.
Each escalation is audited with the actor `escalation`."""

from __future__ import annotations

import logging
import time

from bot.alerts.oncall import label
from bot.alerts.records import Incident
from bot.alerts.routing import escalation_for
from bot.audit import AuditLog, AuditUnavailable
from bot.config import EscalationLevel, Settings
from bot.storage.alerts.store import AlertStore

log = logging.getLogger("supbot.alerts")

ACTOR = "escalation"


class Escalation:
    def __init__(self, alerts: AlertStore, settings: Settings, audit: AuditLog) -> None:
        self.alerts, self.settings, self.audit = alerts, settings, audit
        every = [settings.alerts.oncall.escalation] + [
            b.oncall.escalation for b in settings.channels
        ]
        levels = [level for config in every for level in config]
        self.soonest = min((level.after for level in levels), default=None)
        self.deepest = max((len(config) for config in every), default=0)

    def run(self, now: float | None = None) -> int:
        """Queue the escalations that are due; returns how many."""
        if self.soonest is None:
            return 0
        now = now or time.time()
        done: list[tuple[Incident, int, EscalationLevel]] = []
        with self.alerts.transaction() as tx:
            for inc in tx.to_escalate(now - self.soonest, self.deepest):
                levels = escalation_for(self.settings, inc.node, inc.process)
                for number, level in enumerate(levels, start=1):
                    if number <= inc.escalated or inc.opened > now - level.after:
                        continue
                    tx.mark_escalated(inc.id, number)
                    payload = {"level": number, "to": level.to, "after": level.after}
                    tx.enqueue(inc.channel, "escalate", inc.id, payload)
                    done.append((inc, number, level))
        for inc, number, level in done:
            self._audit(inc, number, level)
        return len(done)

    def _audit(self, inc: Incident, number: int, level: EscalationLevel) -> None:
        target = f"#{inc.id} {label(inc)} → {level.to} (level {number})"
        try:
            self.audit.record(ACTOR, "alerts", "escalate", target, "ok", inc.channel)
        except AuditUnavailable:  # queued already: the reply goes out, the log says so
            log.error("escalation of incident %d to %s not audited", inc.id, level.to)
