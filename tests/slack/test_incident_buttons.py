"""The alert's Ack button is a command button: each click is authorized for the clicker."""

from __future__ import annotations

import time

from bot.alerts import events
from bot.alerts.incidents import IncidentEngine
from bot.alerts.records import ProcessEvent
from bot.storage.alerts.store import AlertStore
from tests.slack.harness import Harness


def _incident(slack: Harness) -> int:
    """A crash of worker_00 through the real incident engine (routed to #ops)."""
    alerts = AlertStore(slack.services.store)
    crash = ProcessEvent(
        "local",
        "worker:worker_00",
        "EXITED",
        "watcher",
        "RUNNING",
        pid=4242,
        stop=time.time(),
        exitstatus=3,
        expected=False,
    )
    events.record(alerts, crash)
    IncidentEngine(alerts, lambda node, process: "C0OPS").process_pending()
    (inc,) = alerts.open_incidents()
    return inc.id


def test_viewer_ack_click_is_refused_and_operator_click_takes_ownership(slack: Harness):
    incident = _incident(slack)
    refused = slack.click(f"ack {incident}", user="U0VIEWER").wait_response(slack.fake)
    assert "operator" in refused.text()
    alerts = AlertStore(slack.services.store)
    assert alerts.incident(incident).acked_by is None
    done = slack.click(f"ack {incident}").wait_response(slack.fake, "You own incident")
    assert "escalation is stopped" in done.text()
    assert alerts.incident(incident).acked_by == "U0OPER"
    audit = [(e.actor, e.action, e.outcome) for e in slack.services.audit.since()]
    assert ("U0VIEWER", "ack", "refused") in audit and ("U0OPER", "ack", "ok") in audit
