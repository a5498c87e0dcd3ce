"""A replica's heartbeat: `serve:<host>:<pid>` in the shared state, with a lease of LEASE
seconds renewed every BEAT, so `supbot status --self` (on any host) lists the live replicas and
what each leads. A replica that stops says so; one killed is seen by its lease running out.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from bot.errors import StateUnavailable
from bot.runs.alive import HOST

if TYPE_CHECKING:
    from bot.state import Store

log = logging.getLogger("supbot.ha")

PREFIX = "serve:"
BEAT = 2.0
LEASE = 6.0
FORGET_AFTER = 86400.0  # a replica silent this long is dropped from the list


def replica_name() -> str:
    return f"{PREFIX}{HOST}:{os.getpid()}"


class ReplicaBeat:
    """`ReplicaBeat(store_of, how, leads).start()` … `.stop()`; `store_of` gives the current
    store (a config reload replaces it), `how` says how it serves ("http 0.0.0.0:3000"),
    `leads` the singleton loops it runs now."""

    def __init__(
        self, store_of: Callable[[], Store], how: str, leads: Callable[[], list[str]]
    ) -> None:
        self.store_of, self.how, self.leads = store_of, how, leads
        self.name = replica_name()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ha-heartbeat", daemon=True)
        self._failing = False

    def start(self) -> ReplicaBeat:
        self._thread.start()
        return self

    def stop(self) -> None:
        from bot.storage import heartbeats

        self._stop.set()
        self._thread.join(BEAT * 2)
        try:
            with self.store_of().transaction() as db:
                heartbeats.stopped(db, self.name, os.getpid())
        except StateUnavailable:
            pass  # its lease runs out by itself

    def detail(self) -> str:
        leads = self.leads()
        return f"{self.how}; leads {', '.join(leads)}" if leads else self.how

    def beat(self) -> None:
        self.store_of().heartbeat(self.name, self.detail(), lease=LEASE)

    def _run(self) -> None:
        self._forget_old()
        while not self._stop.is_set():
            try:
                self.beat()
                if self._failing:
                    log.info("replica heartbeat %s recorded again", self.name)
                self._failing = False
            except StateUnavailable as exc:  # the store logs the outage; one line here
                if not self._failing:
                    log.warning("cannot record the replica heartbeat: %s; retrying", exc)
                self._failing = True
            self._stop.wait(BEAT)

    def _forget_old(self) -> None:
        from bot.storage import heartbeats

        store = self.store_of()
        try:
            with store.transaction() as db:
                heartbeats.forget_silent(db, PREFIX, store.now(db) - FORGET_AFTER)
        except StateUnavailable:
            pass  # next start
