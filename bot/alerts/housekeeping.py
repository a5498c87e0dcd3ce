"""Loops that run every few seconds in serve: listener heartbeats and the alerts' retention
(`HousekeepingLoop`), and the digest schedule (`DigestLoop`)."""

from __future__ import annotations

import threading
import time
from typing import Any

from bot.alerts import events
from bot.alerts.digest import DigestSchedule
from bot.alerts.escalation import Escalation
from bot.alerts.listener import last_beat
from bot.alerts.records import ProcessEvent
from bot.alerts.silence_summary import SilenceSummaries
from bot.storage.alerts.store import AlertStore

HOUSEKEEPING = 10.0
PRUNE_EVERY = 3600.0
EVENTS_KEPT = 8 * 86400.0  # at least: the digest counts events since the last one


class HousekeepingLoop:
    name = "alerts-housekeeping"

    def __init__(
        self, services: Any, alerts: AlertStore, nodes: list[str], wake: threading.Event
    ) -> None:
        self.alerts, self.nodes, self.wake = alerts, nodes, wake
        self.retention: float = services.settings.storage.retention
        self.escalation = Escalation(alerts, services.settings, services.audit)
        self.silences = SilenceSummaries(services, alerts)
        self._pruned = 0.0

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            for node in self.nodes:
                self.check_listener(node)
            if self.escalation.run() + self.silences.run():
                self.wake.set()
            if time.time() - self._pruned > PRUNE_EVERY:
                self.prune()
                self._pruned = time.time()
            stop.wait(HOUSEKEEPING)

    def check_listener(self, node: str) -> None:
        """Report a listener whose heartbeat stopped, and its return."""
        beat = last_beat(self.alerts.store, node)
        if beat is None:
            return  # this node never had a listener: the watcher is its normal mode
        seen, alive = beat
        reported = self.alerts.has_open_incident(node, "listener")
        if not alive and not reported:
            self._record(node, "LISTENER_SILENT", seen)
        elif reported and alive:
            self._record(node, "LISTENER_BACK")

    def _record(self, node: str, state: str, at: float | None = None) -> None:
        event = ProcessEvent(node, "listener", state, "health", stop=at or time.time())
        events.record(self.alerts, event)
        self.wake.set()

    def prune(self) -> None:
        """Forget delivered alerts, closed incidents and handled events past `[storage]
        retention` (events are kept at least EVENTS_KEPT)."""
        now = time.time()
        self.alerts.prune(now - self.retention, now - max(self.retention, EVENTS_KEPT))
        self.silences.prune(now - self.retention)


class DigestLoop:
    """Posts the digest when `[alerts] digest` says it is due."""

    name = "alerts-digest"

    def __init__(self, services: Any, wake: threading.Event) -> None:
        self.schedule = DigestSchedule(services)
        self.wake = wake

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            if self.schedule.due():
                self.schedule.run()
                self.wake.set()
            stop.wait(HOUSEKEEPING)
