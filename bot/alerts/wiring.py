"""What Services.build installs for alerts: the snooze verbs, and "expected stop" marks for
every stop/restart/signal requested through supbot (so those exits are never crashes)."""

from __future__ import annotations

from typing import Any

from bot.alerts import events
from bot.alerts.snooze import SnoozeService, register
from bot.alerts.storage.store import AlertStore
from bot.audit import AuditEntry, AuditLog
from bot.domain import ProcessInfo
from bot.names import parse_node_label
from bot.processes import ProcessService
from bot.state import Store

EXPECTED_ACTIONS = ("stop", "restart", "signal")


def install(
    dispatcher: Any, store: Store, processes: ProcessService, audit: AuditLog
) -> SnoozeService:
    alerts = AlertStore(store)
    alerts.ensure()  # snoozing edits open incidents: their tables must exist

    def before(action: str, process: ProcessInfo) -> None:
        # Written before supervisord is asked, so no detector can see the exit first.
        if action in EXPECTED_ACTIONS:
            events.mark_expected(alerts, process.node, process.full_name)

    def after(entry: AuditEntry) -> None:
        target = parse_node_label(entry.target)
        if entry.action in EXPECTED_ACTIONS and target is not None:
            events.close_expected(alerts, *target)

    processes.before_action.append(before)
    audit.listeners.append(after)
    return register(dispatcher, store, processes, audit)
