"""uvicorn, configured the same way for every supbot HTTP surface (serve --http, supbot api).

uvicorn closes idle keep-alive connections (`timeout_keep_alive`) but sets no deadline for a
request head that trickles in byte by byte, so a handful of slow clients could hold
connections for ever. `GuardedH11Protocol` closes a connection whose request line and
headers are not complete within HEAD_TIMEOUT; the body has its own deadline (BodyLimit).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from bot.web.limits import ASGIApp

HEAD_TIMEOUT = 10.0  # seconds for the request line and headers
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open
MAX_HEAD = 16 * 1024  # bytes of request line + headers (h11 answers 400 past it)
MAX_CONNECTIONS = 256  # beyond it uvicorn answers 503 at once instead of queueing


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request's head."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._head_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)  # type: ignore[arg-type]
        self._watch_head()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch_head()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _watch_head(self) -> None:
        """Armed while a request head is awaited; cancelled once h11 has parsed it."""
        waiting = self.conn.their_state is h11.IDLE and not self.transport.is_closing()
        if not waiting:
            self._stop_head_timer()
        elif self._head_timer is None and self.timeout_keep_alive_task is None:
            self._head_timer = self.loop.call_later(HEAD_TIMEOUT, self._head_too_slow)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_too_slow(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            self.transport.close()


def server(app: ASGIApp, host: str, port: int, **options: Any) -> uvicorn.Server:
    """A uvicorn server with supbot's connection limits (the app limits body size itself)."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        http=GuardedH11Protocol,
        timeout_keep_alive=KEEP_ALIVE,
        h11_max_incomplete_event_size=MAX_HEAD,
        limit_concurrency=MAX_CONNECTIONS,
        # one line per request would let a flood of refused requests grow the log without
        # bound; refusals are summarised by RefusalLog and actions are in the audit log
        access_log=False,
        log_level="info",
        **options,
    )
    return uvicorn.Server(config)
