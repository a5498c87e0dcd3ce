"""AlertsWorker: what `supbot serve` runs for alerts — the delivery loop, a watch loop per
node, housekeeping and the digest, each a small class on its own thread. `listen` and
`alerts deliver` run only the delivery loop. A config reload replaces the loops, not the
worker: its options stay."""

from __future__ import annotations

import logging
import threading
from typing import Any, Protocol

from bot.alerts.delivery_loop import DeliveryLoop
from bot.alerts.housekeeping import DigestLoop, HousekeepingLoop
from bot.alerts.watch_loop import WatchLoop
from bot.checks.loop import ChecksLoop
from bot.errors import StateUnavailable
from bot.storage.alerts.store import AlertStore

log = logging.getLogger("supbot.alerts")

RESTART_AFTER = 5.0  # a loop that failed is started again after this


class Loop(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None: ...


class AlertsWorker:
    """`AlertsWorker(services).start()` … `.stop()`. `watch=False` runs only processing and
    delivery (the listener's sender); `watch_everything` polls nodes that have a listener
    too; `deliver` (default: when a bot token is set) sends from this process."""

    def __init__(
        self,
        services: Any,
        watch: bool = True,
        deliver: bool | None = None,
        watch_everything: bool = False,
    ) -> None:
        self.watch, self.deliver, self.watch_everything = watch, deliver, watch_everything
        self.wake = threading.Event()  # set when there is something to deliver
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._build(services)

    def _build(self, services: Any) -> None:
        self.services = services
        self.alerts = AlertStore(services.store)
        self.delivery = DeliveryLoop(services, self.alerts, self.wake, self.deliver)
        self.watchers = {
            node: WatchLoop(services, self.alerts, node, self.wake, self.watch_everything)
            for node in services.fleet.clients
        }
        self.housekeeping = HousekeepingLoop(services, self.alerts, list(self.watchers), self.wake)
        digest = services.settings.alerts.digest
        self.digest = DigestLoop(services, self.wake) if digest else None
        checks = services.settings.checks
        self.checks = ChecksLoop(services, self.alerts, self.wake) if checks else None

    def start(self) -> AlertsWorker:
        self._stop = threading.Event()
        self._spawn(self.delivery)
        if self.watch:
            for watcher in self.watchers.values():
                self._spawn(watcher)
            self._spawn(self.housekeeping)
            if self.digest is not None:
                self._spawn(self.digest)
            if self.checks is not None:
                self._spawn(self.checks)
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        self.delivery.close()

    def restart_with(self, services: Any) -> None:
        """After a config reload: the same loops on the new services, same options."""
        self.stop()
        self._build(services)
        self.start()

    def step(self) -> float:
        """One round of the delivery loop (see DeliveryLoop.step)."""
        return self.delivery.step()

    def _spawn(self, loop: Loop) -> None:
        stop = self._stop
        thread = threading.Thread(
            target=self._guard, args=(loop, stop), name=loop.name, daemon=True
        )
        self._threads.append(thread)
        thread.start()

    def _guard(self, loop: Loop, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                loop.run(stop)
                return
            except StateUnavailable:  # the Store logged it once; try again, no traceback
                stop.wait(RESTART_AFTER)
            except Exception:
                log.exception("alerts thread %s failed; restarting it in 5s", loop.name)
                stop.wait(RESTART_AFTER)
