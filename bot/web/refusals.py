"""One short log line for refused requests, at most one per interval, counting the rest.

A flood of unsigned or malformed requests must not grow the log by a line (let alone a
traceback) each: the first refusal is logged, later ones within `interval` are counted and
reported with the next line.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

log = logging.getLogger("supbot.http")


class RefusalLog:
    def __init__(self, interval: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self._clock = interval, clock
        self._lock = threading.Lock()
        self._next_at = 0.0
        self._suppressed = 0

    def note(self, status: int, path: str, reason: str) -> None:
        """Record one refused request; log it unless a line went out less than `interval` ago."""
        with self._lock:
            now = self._clock()
            if now < self._next_at:
                self._suppressed += 1
                return
            suppressed, self._suppressed = self._suppressed, 0
            self._next_at = now + self.interval
        more = f" (+{suppressed} more refused since the last line)" if suppressed else ""
        log.warning("refused %s with %d: %s%s", path, status, reason, more)
