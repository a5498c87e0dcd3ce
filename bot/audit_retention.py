"""The audit log's own housekeeping: entries past `[storage] retention` are forgotten, once
at start and hourly after (serve runs it beside the alerts)."""

from __future__ import annotations

import logging
import threading
from typing import Any

from bot.errors import StateUnavailable

log = logging.getLogger("supbot.audit")

PRUNE_EVERY = 3600.0


class AuditRetention:
    """`AuditRetention(services).start()` … `.stop()`; `restart_with` after a reload."""

    def __init__(self, services: Any) -> None:
        self.services = services
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> AuditRetention:
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(self._stop,), name="audit-retention", daemon=True
        )
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def restart_with(self, services: Any) -> None:
        """After a config reload: the new retention and audit log."""
        self.stop()
        self.services = services
        self.start()

    def prune(self) -> None:
        self.services.audit.prune(self.services.settings.storage.retention)

    def _run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                self.prune()
            except StateUnavailable:  # the Store said so once: try again next time
                pass
            except Exception:  # a bug: say it, try again next time
                log.exception("pruning the audit log failed; trying again in an hour")
            stop.wait(PRUNE_EVERY)
