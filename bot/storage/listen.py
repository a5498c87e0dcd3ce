"""Wake-ups between processes: a writer says "there is work" on a topic, waiters wake at once.

PostgreSQL: `pg_notify('supbot_<topic>')` inside the writer's transaction (delivered at its
commit, so a waiter woken finds the row), and each waiter holds its own connection in LISTEN.
SQLite: no cross-process channel; waiters of this process are woken after the commit and other
processes find the work at their next poll (their interval stays short on SQLite).

A waiter never fails its caller: with the server gone it says so once in the log, sleeps its
timeout (polling, as on SQLite) and listens again when the server is back.
"""

from __future__ import annotations

import logging
import threading
import time
from contextlib import suppress
from typing import Any

log = logging.getLogger("supbot.state")

PREFIX = "supbot_"
_SAID: set[str] = set()  # servers whose loss was logged (by any waiter of this process)


class Local:
    """This process's waiters by topic: woken after a commit that notified the topic."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._events: dict[str, list[threading.Event]] = {}

    def add(self, topic: str) -> threading.Event:
        event = threading.Event()
        with self._lock:
            self._events.setdefault(topic, []).append(event)
        return event

    def remove(self, topic: str, event: threading.Event) -> None:
        with self._lock:
            found = self._events.get(topic, [])
            if event in found:
                found.remove(event)

    def wake(self, topics: set[str]) -> None:
        with self._lock:
            for topic in topics:
                for event in self._events.get(topic, []):
                    event.set()


class Waiter:
    """Wait for a topic's notification, at most `timeout` seconds each time."""

    def __init__(self, topic: str, local: Local, url: str | None, shown: str) -> None:
        self.topic = topic
        self._local = local
        self._event = local.add(topic)
        self._url = url  # PostgreSQL (libpq form), or None on SQLite
        self._shown = shown
        self._conn: Any = None
        self._retry_at = 0.0
        self._down = False

    def wait(self, timeout: float) -> bool:
        """True when notified (since the last wait), False after `timeout`."""
        if self._event.is_set():
            self._event.clear()
            return True
        if self._url is None or not self._listening():
            woken = self._event.wait(timeout)
            self._event.clear()
            return woken
        try:
            for _ in self._conn.notifies(timeout=timeout, stop_after=1):
                self._event.clear()
                return True
        except Exception as exc:  # noqa: BLE001 — the server went away: poll until it is back
            self._lost(exc)
            return self._event.wait(timeout)
        woken = self._event.is_set()
        self._event.clear()
        return woken

    def _listening(self) -> bool:
        if self._conn is not None:
            return True
        if time.monotonic() < self._retry_at:
            return False
        import psycopg

        assert self._url is not None, "only PostgreSQL waiters listen"
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
            conn.execute(f'LISTEN "{PREFIX}{self.topic}"')
        except Exception as exc:  # noqa: BLE001
            self._lost(exc)
            return False
        self._conn = conn
        if self._down and self._shown in _SAID:
            _SAID.discard(self._shown)
            log.info("listening again on %s", self._shown)
            self._down = False
        return True

    def _lost(self, exc: BaseException) -> None:
        if not self._down and self._shown not in _SAID:
            _SAID.add(self._shown)  # one line per server, not one per topic
            self._down = True
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            log.warning(
                "cannot listen for %s on %s (%s): polling until it answers",
                self.topic,
                self._shown,
                first,
            )
        self._down = True
        self.close()
        self._retry_at = time.monotonic() + 5.0

    def close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            with suppress(Exception):  # closing a dead connection
                conn.close()

    def stop(self) -> None:
        self.close()
        self._local.remove(self.topic, self._event)
