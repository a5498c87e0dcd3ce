"""Escalation: an incident nobody acknowledged within `[alerts] escalate_after` is re-posted
in its thread mentioning `escalate_to`, once. Runs in the housekeeping loop (one process);
choosing the incidents and queuing the reply is one transaction, so a level is posted once
even if two processes ran it. An Ack stops it, also while the reply waits in the outbox."""

from __future__ import annotations

import time

from bot.config import AlertSettings
from bot.storage.alerts.store import AlertStore

LEVEL = 1  # one level for now: `escalated` counts levels so more can follow


class Escalation:
    def __init__(self, alerts: AlertStore, settings: AlertSettings) -> None:
        self.alerts = alerts
        self.after, self.to = settings.escalate_after, settings.escalate_to

    def run(self, now: float | None = None) -> int:
        """Queue the escalations that are due; returns how many."""
        if not self.after or not self.to:
            return 0
        now = now or time.time()
        with self.alerts.transaction() as tx:
            due = tx.to_escalate(now - self.after, LEVEL)
            for inc in due:
                tx.mark_escalated(inc.id, LEVEL)
                payload = {"level": LEVEL, "to": self.to, "after": self.after}
                tx.enqueue(inc.channel, "escalate", inc.id, payload)
        return len(due)
