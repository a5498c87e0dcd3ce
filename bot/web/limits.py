"""ASGI middleware: a request body over the limit is refused with 413 before it is buffered.

The declared Content-Length is checked first (nothing is read); a body without one (chunked)
is counted while it streams and refused as soon as it passes the limit. A body that does not
arrive within `deadline` seconds is refused with 408, so a slow sender cannot hold a worker.
The app then reads the (bounded) body as usual.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bot.web.refusals import RefusalLog

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

SLACK_MAX_BODY = 1024 * 1024  # Slack's own payloads are a few KB; its documented maximum far less
BODY_DEADLINE = 30.0


class BodyLimit:
    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int,
        refusals: RefusalLog,
        deadline: float = BODY_DEADLINE,
    ) -> None:
        self.app, self.max_bytes, self.refusals, self.deadline = app, max_bytes, refusals, deadline

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = str(scope.get("path", ""))
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send, path, 413, self._too_large(), f"Content-Length {declared}")
            return
        try:
            async with asyncio.timeout(self.deadline):
                body = await self._read(receive)
        except TimeoutError:
            detail = f"The request body did not arrive within {self.deadline:g} seconds."
            await self._refuse(send, path, 408, ("timeout", detail), "body too slow")
            return
        if body is None:
            await self._refuse(send, path, 413, self._too_large(), "streamed body over the limit")
            return
        await self.app(scope, _replay(body, receive), send)

    async def _read(self, receive: Receive) -> bytes | None:
        """The whole body, or None once it passes the limit (the rest is never buffered)."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away: let the app see it
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)

    def _too_large(self) -> tuple[str, str]:
        limit = f"{self.max_bytes // 1024} KB"
        return (
            "too_large",
            f"The request body is over {limit}; this endpoint takes at most {limit}.",
        )

    async def _refuse(
        self, send: Send, path: str, status: int, problem: tuple[str, str], why: str
    ) -> None:
        self.refusals.note(status, path, why)
        error, detail = problem
        payload = json.dumps({"error": error, "detail": detail}).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
            # the unread rest of the body must not be parsed as the next request
            (b"connection", b"close"),
        ]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


def _content_length(scope: MutableMapping[str, Any]) -> int | None:
    for name, value in scope.get("headers", []):
        if name == b"content-length" and value.strip().isdigit():
            return int(value)
    return None


def _replay(body: bytes, receive: Receive) -> Receive:
    """The buffered body once, then the real channel (so a disconnect is still seen)."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replayed
