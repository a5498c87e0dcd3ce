"""Leadership: the singleton loops (watchers, housekeeping, digest, checks) run on exactly one
replica at a time, the one holding a lease in the shared state.

Every replica runs a `Leadership`; its thread asks the lease every half second (renewed every
TTL/3 = 2 s by its holder, a database write only then). The replica that gets it starts the
loops; one that loses it (another took it after an expiry, or its database is unreachable past
its own last renewal) stops them at once: it never acts past the expiry by its own clock.
A killed leader's lease is taken when it expires (TTL), or at once by a replica on the same
host (a dead pid is seen): failover takes at most TTL + STANDBY_CHECK seconds.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from bot.state import Store

log = logging.getLogger("supbot.ha")

LEASE = "alerts-leader"
TTL = 6.0  # the lease's length; its holder renews it every TTL/3
LEADER_CHECK = 0.5  # the holder looks this often (no database write unless a renewal is due)
STANDBY_CHECK = 1.0  # a replica without the lease tries to take it this often
STOP_WAIT = 5.0  # how long a stopping loop may take to finish its round


class Loop(Protocol):
    name: str

    def run(self, stop: threading.Event) -> None: ...


Spawn = Callable[[list[Loop], threading.Event], list[threading.Thread]]


class Leadership:
    """`Leadership(store, make_loops, spawn).start()` … `.stop()`. `make_loops` builds fresh
    loops each time the lease is won (no memory of an earlier term: the shared state has it);
    `spawn` runs them on threads until the event is set."""

    def __init__(
        self,
        store: Store,
        make_loops: Callable[[], list[Loop]],
        spawn: Spawn,
        name: str = LEASE,
        ttl: float = TTL,
    ) -> None:
        from bot.storage.leases import Leader

        self.leader = Leader(store, name, ttl)
        self.make_loops, self.spawn = make_loops, spawn
        self.loops: list[str] = []  # the names of the loops this replica runs now
        self._stop = threading.Event()
        self._term: threading.Event | None = None  # set to end the current term's loops
        self._threads: list[threading.Thread] = []
        self._thread: threading.Thread | None = None

    @property
    def name(self) -> str:
        return self.leader.name

    def leading(self) -> bool:
        return self._term is not None

    def start(self) -> Leadership:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="ha-leadership", daemon=True)
        self._thread.start()
        return self

    def stop(self, release: bool = True) -> None:
        """End the loops; `release` hands the lease over at once (else it expires or this
        process takes it again, as after a config reload)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(STOP_WAIT + 2 * STANDBY_CHECK)
            self._thread = None
        self._follow()
        if release:
            self.leader.release()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                held = self.leader.holding()
            except Exception:  # a bug in the lease code must not end leadership checks
                log.exception("could not check the %s lease", self.name)
                held = False
            if held and self._term is None:
                self._lead()
            elif not held and self._term is not None:
                log.warning("lost the %s lease: stopping %s", self.name, ", ".join(self.loops))
                self._follow()
            # Look again before our own view of the lease runs out, never later.
            wait = LEADER_CHECK if held else STANDBY_CHECK
            self._stop.wait(max(0.05, min(wait, self.leader.remaining())) if held else wait)

    def _lead(self) -> None:
        term = threading.Event()
        loops = self.make_loops()
        self._term, self.loops = term, [loop.name for loop in loops]
        self._threads = self.spawn(loops, term)
        log.info("took the %s lease: running %s", self.name, ", ".join(self.loops) or "nothing")

    def _follow(self) -> None:
        term, self._term = self._term, None
        if term is None:
            return
        term.set()
        for thread in self._threads:
            thread.join(STOP_WAIT)
        self._threads, self.loops = [], []
