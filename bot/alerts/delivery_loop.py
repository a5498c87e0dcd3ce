"""The delivery loop: turn new events into incidents, queue audit-channel lines, send what
may go now. Every alerts process runs it (serve, a sending listener, `alerts deliver`)."""

from __future__ import annotations

import threading
import time
from typing import Any

from bot.alerts.delivery import Deliverer, log_fetcher, web_client
from bot.alerts.incidents import IncidentEngine
from bot.alerts.pager_send import PagerSender
from bot.alerts.pagers import Pager
from bot.alerts.routing import router, wants
from bot.alerts.silencing import Silencing
from bot.alerts.wakeups import relay
from bot.config import Settings
from bot.slack.audit_channel import AuditFeed
from bot.storage.alerts.store import AlertStore

# How often another process's new events and rows are looked for when no notification came
# (SQLite has none between processes; on PostgreSQL this is only a safety net).
EVENT_POLL = 0.025
AUDIT_POLL = 2.0  # how often the audit table is read for other processes' entries


class DeliveryLoop:
    """`deliver=False`: only events become incidents (nothing is sent from this process)."""

    name = "alerts-deliver"

    def __init__(
        self, services: Any, alerts: AlertStore, wake: threading.Event, deliver: bool | None
    ) -> None:
        settings: Settings = services.settings
        self.alerts, self.wake, self.audit = alerts, wake, services.audit
        silencing = Silencing(settings.silences, settings.timezone)
        self.engine = IncidentEngine(
            alerts, router(settings), wants(settings), silencing, Pager(settings)
        )
        send = bool(settings.secrets.bot_token) if deliver is None else deliver
        self.deliverer = (
            Deliverer(
                alerts,
                web_client(settings),
                settings,
                log_fetcher(services.fleet, services.redactor),
                PagerSender(alerts, settings, services.audit),
            )
            if send
            else None
        )
        self.audit_feed = (
            AuditFeed(services.store, services.audit, settings.audit_channel)
            if send and settings.audit_channel
            else None
        )
        self._audit_fed = 0.0
        self._audit_due = threading.Event()
        if self.audit_feed:
            self.audit.listeners.append(self.audit_recorded)

    def close(self) -> None:
        """Stop hearing of this process's audit entries (the loop is being replaced)."""
        if self.audit_recorded in self.audit.listeners:
            self.audit.listeners.remove(self.audit_recorded)

    def audit_recorded(self, _entry: object = None) -> None:
        """This process recorded an action: queue its audit line now, not at the next poll."""
        self._audit_due.set()
        self.wake.set()

    def run(self, stop: threading.Event) -> None:
        relay(self.alerts.store, self.wake, stop)  # other processes' events and rows wake us
        while not stop.is_set():
            wait = self.step()
            if wait > 0:
                self.wake.wait(min(wait, EVENT_POLL))
                self.wake.clear()

    def step(self) -> float:
        """Process new events, queue audit lines, send what may go now. Returns how long the
        caller may wait (0: there is more to do at once)."""
        busy = False
        if self.alerts.has_pending_events():
            busy = self.engine.process_pending() > 0
        if self.audit_feed and (
            self._audit_due.is_set() or time.monotonic() - self._audit_fed >= AUDIT_POLL
        ):
            self._audit_due.clear()
            self._audit_fed = time.monotonic()
            self.audit_feed.feed()
        wait = 1.0
        if self.deliverer and self.alerts.has_unsent():
            wait = self.deliverer.deliver_ready()
            busy = busy or wait == 0
        return 0.0 if busy else wait
