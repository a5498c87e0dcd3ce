""" "Expected stop" marks: every stop/restart/signal requested through supbot is marked before
supervisord is asked and the mark is closed once audited, so those exits are never crashes.

bot/wiring.py hooks `before` into `ProcessService.before_action` and `after` into
`AuditLog.listeners`.
"""

from __future__ import annotations

from bot.alerts import events
from bot.audit import AuditEntry
from bot.domain import ProcessInfo
from bot.names import parse_node_label
from bot.storage.alerts.store import AlertStore

EXPECTED_ACTIONS = ("stop", "restart", "signal")


class ExpectedStops:
    def __init__(self, alerts: AlertStore) -> None:
        self.alerts = alerts

    def before(self, action: str, process: ProcessInfo) -> None:
        # Written before supervisord is asked, so no detector can see the exit first.
        if action in EXPECTED_ACTIONS:
            events.mark_expected(self.alerts, process.node, process.full_name)

    def after(self, entry: AuditEntry) -> None:
        target = parse_node_label(entry.target)
        if entry.action in EXPECTED_ACTIONS and target is not None:
            events.close_expected(self.alerts, *target)
