"""AlertsWorker: what `supbot serve` runs for alerts — the delivery loop, a watch loop per
node, housekeeping, the digest and the checks, each a small class on its own thread. `listen`
and `alerts deliver` run only the delivery loop. A config reload replaces the loops, not the
worker: its options stay.

Delivery runs in every process (outbox claims are atomic); the other loops are singletons:
they run only while this process holds the leader lease (bot/ha/leadership.py), so with
several replicas exactly one watches, prunes, escalates and posts the digest."""

from __future__ import annotations

import logging
import threading
from typing import Any

from bot.alerts.delivery_loop import DeliveryLoop
from bot.alerts.housekeeping import DigestLoop, HousekeepingLoop
from bot.alerts.watch_loop import WatchLoop
from bot.checks.loop import ChecksLoop
from bot.errors import StateUnavailable
from bot.ha.leadership import Leadership, Loop
from bot.storage.alerts.store import AlertStore

log = logging.getLogger("supbot.alerts")

RESTART_AFTER = 5.0  # a loop that failed is started again after this


class AlertsWorker:
    """`AlertsWorker(services).start()` … `.stop()`. `watch=False` runs only processing and
    delivery (the listener's sender); `watch_everything` polls nodes that have a listener
    too; `deliver` (default: when a bot token is set) sends from this process. With `watch`,
    the singleton loops run only while this process holds the leader lease (`leads()`)."""

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
        self.leadership: Leadership | None = None
        self._build(services)

    def _build(self, services: Any) -> None:
        self.services = services
        self.alerts = AlertStore(services.store)
        self.delivery = DeliveryLoop(services, self.alerts, self.wake, self.deliver)
        self._build_singletons()

    def _build_singletons(self) -> None:
        """Fresh watchers, housekeeping, digest and checks: nothing carried over from an
        earlier term (the log positions they resume from are in the shared state)."""
        services = self.services
        self.watchers = {
            node: WatchLoop(services, self.alerts, node, self.wake, self.watch_everything)
            for node in services.fleet.clients
        }
        self.housekeeping = HousekeepingLoop(services, self.alerts, list(self.watchers), self.wake)
        digest = services.settings.alerts.digest
        self.digest = DigestLoop(services, self.wake) if digest else None
        checks = services.settings.checks
        self.checks = ChecksLoop(services, self.alerts, self.wake) if checks else None

    def singletons(self) -> list[Loop]:
        """The loops only the leader runs, built afresh."""
        self._build_singletons()
        loops: list[Loop] = [*self.watchers.values(), self.housekeeping]
        return loops + [loop for loop in (self.digest, self.checks) if loop is not None]

    def start(self) -> AlertsWorker:
        self._stop = threading.Event()
        self._threads = self._run_loops([self.delivery], self._stop)
        if self.watch:
            store = self.services.store
            self.leadership = Leadership(store, self.singletons, self._run_loops).start()
        return self

    def leads(self) -> list[str]:
        """The singleton loops this process runs now (empty: another replica leads)."""
        return list(self.leadership.loops) if self.leadership else []

    def stop(self, timeout: float = 5.0, release: bool = True) -> None:
        if self.leadership is not None:
            self.leadership.stop(release)
            self.leadership = None
        self._stop.set()
        self.wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads = []
        self.delivery.close()

    def restart_with(self, services: Any) -> None:
        """After a config reload: the same loops on the new services, same options. The lease
        is kept (this process takes it again at once), so no other replica steps in."""
        self.stop(release=False)
        self._build(services)
        self.start()

    def step(self) -> float:
        """One round of the delivery loop (see DeliveryLoop.step)."""
        return self.delivery.step()

    def _run_loops(self, loops: list[Loop], stop: threading.Event) -> list[threading.Thread]:
        """Each loop on its own thread until `stop` is set."""
        threads = []
        for loop in loops:
            thread = threading.Thread(
                target=self._guard, args=(loop, stop), name=loop.name, daemon=True
            )
            threads.append(thread)
            thread.start()
        return threads

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
