"""A loopback stand-in for Slack: the Web API, response_url endpoints, file uploads and the
Socket Mode WebSocket. It records every request; the bot's real clients talk to it.

Only the HTTP boundary is fake. One call record serves every test: `calls`, `of(method)`,
`wait_call(...)`, `wait_for(predicate)`, `settle()`; what users would see: `ok()`, `posts()`,
`messages()`; failures Slack really answers: `outage`, `refusal`, `fail`, `rate_limit`.
"""

from __future__ import annotations

import itertools
import json
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl

from websockets.sync.server import ServerConnection, serve

_OUTAGE_PAGE = b"<html>down</html>"  # what a proxy in front of a Slack outage answers


@dataclass
class Call:
    path: str
    method: str  # Web API method ("chat.postMessage"), or "response" / "upload"
    body: dict[str, Any]
    headers: dict[str, str]
    status: int = 200  # the HTTP status answered
    answer: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)
    wall: float = field(default_factory=time.time)  # to compare with times other processes wrote

    @property
    def ok(self) -> bool:
        """Slack accepted it: the user sees it (a response_url post is answered plain "ok")."""
        return self.status == 200 and self.answer.get("ok", True) is True

    @property
    def ts(self) -> str:
        """The message this call posted or edited."""
        return str(self.answer.get("ts") or self.body.get("ts") or "")

    def text(self) -> str:
        """Everything a user would read in this message: text and block texts."""
        if "_text" not in self.__dict__:  # waiters scan every call on every new one
            self.__dict__["_text"] = json.dumps(self.body, ensure_ascii=False)
        return str(self.__dict__["_text"])

    def buttons(self) -> list[dict[str, Any]]:
        """The elements of the message's actions blocks, in order."""
        return buttons(self.body)

    def button_values(self) -> list[str]:
        return [b["value"] for b in self.buttons()]


def buttons(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The elements of the actions blocks of a message body (as posted or as answered)."""
    blocks = body.get("blocks") or []
    return [e for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]


@dataclass
class _Failure:
    method: str  # a method ("chat.update") or a family ending in a dot ("chat.")
    status: int
    error: str  # Slack's error code; "" answers an HTML page, as an outage does
    headers: dict[str, str]
    times: int | None  # None: until recover()

    def matches(self, method: str) -> bool:
        return (
            method.startswith(self.method) if self.method.endswith(".") else method == self.method
        )


class FakeSocket:
    """Socket Mode's WebSocket: sends hello and the given envelopes; records what comes back."""

    def __init__(self, envelopes: list[dict[str, Any]]) -> None:
        self.envelopes = envelopes
        self.received: queue.Queue[dict[str, Any]] = queue.Queue()
        self.server = serve(self._handle, "127.0.0.1", 0)
        self.url = f"ws://127.0.0.1:{self.server.socket.getsockname()[1]}/link"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _handle(self, ws: ServerConnection) -> None:
        ws.send(json.dumps({"type": "hello", "num_connections": 1, "debug_info": {}}))
        for envelope in self.envelopes:
            ws.send(json.dumps(envelope))
        for message in ws:
            self.received.put(json.loads(message))

    def next(self, timeout: float = 10.0) -> dict[str, Any]:
        """The next message the bot sent back (an envelope's ack)."""
        return self.received.get(timeout=timeout)

    def stop(self) -> None:
        self.server.shutdown()


class _Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops bursts (20 users answered at once) and the
    # client's SYN retry then adds a whole second: not what Slack would do.
    request_queue_size = 256
    daemon_threads = True


class FakeSlack:
    def __init__(self, port: int = 0) -> None:
        self.calls: list[Call] = []
        self.cond = threading.Condition()
        self.usergroups: dict[str, list[str]] = {}
        self.ws_url = ""  # what apps.connections.open answers (see socket())
        self._failures: list[_Failure] = []
        self._sockets: list[FakeSocket] = []
        self._ts = itertools.count(1)
        self._ids = itertools.count(1)
        self.server = _Server(("127.0.0.1", port), self._handler())
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def start(self) -> FakeSlack:
        self._thread.start()
        return self

    def stop(self) -> None:
        for socket in self._sockets:
            socket.stop()
        self.server.shutdown()
        self.server.server_close()

    # --- what the bot is given --------------------------------------------------------

    def response_url(self) -> str:
        """A fresh response_url, as Slack puts in each command and click."""
        return f"http://127.0.0.1:{self.port}/response/{next(self._ids)}"

    def socket(self, envelopes: list[dict[str, Any]]) -> FakeSocket:
        """A Socket Mode WebSocket sending `envelopes`; apps.connections.open answers its URL."""
        socket = FakeSocket(envelopes)
        self._sockets.append(socket)
        self.ws_url = socket.url
        return socket

    # --- failures, as Slack answers them ------------------------------------------------
    # Tried in the order given; one with a count is dropped once used up.

    def fail(
        self,
        method: str,
        status: int = 500,
        error: str = "internal_error",
        times: int | None = None,
    ) -> None:
        """Answer calls of `method` (or a family: "chat.") with this HTTP status and error."""
        self._add(_Failure(method, status, error, {}, times))

    def rate_limit(self, method: str, times: int = 1, retry_after: int = 1) -> None:
        """Answer the next `times` calls of `method` (or family) with 429 + Retry-After."""
        self._add(_Failure(method, 429, "ratelimited", {"Retry-After": str(retry_after)}, times))

    def outage(self, status: int = 503, times: int | None = None) -> None:
        """Slack is down for chat.*: this status and an HTML page, until recover()."""
        self._add(_Failure("chat.", status, "", {}, times))

    def refusal(self, error: str) -> None:
        """Slack refuses every chat.* call (HTTP 200, ok: false, `error`) until recover()."""
        self._add(_Failure("chat.", 200, error, {}, None))

    def recover(self) -> None:
        """End every outage, refusal, failure and rate limit."""
        with self.cond:
            self._failures.clear()

    def _add(self, failure: _Failure) -> None:
        with self.cond:
            self._failures.append(failure)

    def _failure(self, method: str) -> _Failure | None:
        with self.cond:
            for failure in self._failures:
                if failure.matches(method):
                    if failure.times is not None:
                        failure.times -= 1
                        if failure.times <= 0:
                            self._failures.remove(failure)
                    return failure
        return None

    # --- the call record -----------------------------------------------------------------

    def of(self, method: str, since: int = 0) -> list[Call]:
        with self.cond:
            return [c for c in self.calls[since:] if c.method == method]

    def mark(self) -> int:
        """A position in the record: pass it as `since` to see only later calls."""
        with self.cond:
            return len(self.calls)

    def wait_for(
        self, predicate: Callable[[list[Call]], Any], timeout: float = 10.0, since: int = 0
    ) -> Any:
        """Wait until `predicate(calls)` is truthy; return its value (no sleeping: a condition)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                value = predicate(self.calls[since:])
                if value:
                    return value
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = "\n".join(f"  {c.method} {c.text()[:300]}" for c in self.calls[since:])
                    raise AssertionError(
                        f"Slack did not receive it within {timeout}s; got:\n{seen}"
                    )
                self.cond.wait(left)

    def wait_call(
        self,
        method: str,
        contains: str = "",
        timeout: float = 10.0,
        since: int = 0,
        where: Callable[[Call], bool] = lambda c: True,
    ) -> Call:
        def find(calls: list[Call]) -> Call | None:
            for c in calls:
                if c.method == method and contains in c.text() and where(c):
                    return c
            return None

        result: Call = self.wait_for(find, timeout, since)
        return result

    def responses(self, response_url: str) -> list[Call]:
        """What was posted to this response_url."""
        path = _path(response_url)
        return [c for c in self.of("response") if c.path == path]

    def wait_response(self, response_url: str, contains: str = "", timeout: float = 15.0) -> Call:
        path = _path(response_url)
        return self.wait_call("response", contains, timeout, where=lambda c: c.path == path)

    def settle(self, quiet: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until no call has arrived for `quiet` seconds, or `timeout` passes (then go on:
        a bot still talking is the next assertion's business, not a reason to fail here)."""
        deadline = time.monotonic() + timeout
        with self.cond:
            count = len(self.calls)
            quiet_until = time.monotonic() + quiet
            while (now := time.monotonic()) < min(quiet_until, deadline):
                self.cond.wait(min(quiet_until, deadline) - now)
                if len(self.calls) != count:
                    count, quiet_until = len(self.calls), time.monotonic() + quiet

    # --- what Slack users would see ------------------------------------------------------

    def ok(self, method: str | None = None) -> list[Call]:
        """Web API calls Slack accepted, in order."""
        with self.cond:
            return [c for c in self.calls if c.ok and method in (None, c.method)]

    def posts(self, channel: str | None = None, top_level: bool | None = None) -> list[Call]:
        """Accepted chat.postMessage calls (to `channel`; top-level or thread replies only)."""
        out = [c for c in self.ok("chat.postMessage") if channel in (None, c.body.get("channel"))]
        if top_level is not None:
            out = [c for c in out if ("thread_ts" not in c.body) == top_level]
        return out

    def messages(self) -> dict[str, Call]:
        """The latest version of every top-level message, by ts (updates applied)."""
        out: dict[str, Call] = {}
        for c in self.ok():
            if c.method == "chat.postMessage" and "thread_ts" not in c.body:
                out[c.ts] = c
            elif c.method == "chat.update":
                out[c.body["ts"]] = c
        return out

    def shown(self) -> str:
        """The text of every top-level message as it reads now (updates applied)."""
        return " ".join(c.text() for c in self.messages().values())

    def crashes_shown(self) -> int:
        """Crashes counted in the latest text of every message: incidents and roll-ups."""
        shown = 0
        for message in self.messages().values():
            text = message.body["text"]
            rollup = re.search(r"processes crashed \((\d+) crashes\)", text)
            counted = re.search(r"crashed (\d+)×", text)
            shown += int(rollup.group(1)) if rollup else int(counted.group(1)) if counted else 0
        return shown

    # --- the server --------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self.cond:
            self.calls.append(call)
            self.cond.notify_all()

    def _answer(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        channel = body.get("channel") or body.get("channel_id") or ""
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://example.slack.com/",
                "team": "Example",
                "user": "supbot",
                "team_id": "T0TEAM",
                "user_id": "U0BOT",
                "bot_id": "B0BOT",
            }
        if method == "chat.postMessage":
            ts = f"{1700000000 + next(self._ts)}.000100"
            return {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            return {"ok": True, "channel": channel, "ts": body.get("ts")}
        if method == "usergroups.users.list":
            return {"ok": True, "users": self.usergroups.get(body.get("usergroup", ""), [])}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.ws_url}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids)}"
            url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
            return {"ok": True, "upload_url": url, "file_id": file_id}
        if method == "files.completeUploadExternal":
            return {"ok": True, "files": json.loads(body.get("files") or "[]")}
        if method == "views.publish":
            return {"ok": True, "view": {"id": "V0HOME"}}
        return {"ok": True}

    def _api(self, method: str, body: dict[str, Any]) -> tuple[Call, bytes, dict[str, str]]:
        failure = self._failure(method)
        headers = {"Content-Type": "application/json"}
        if failure is None:
            answer = self._answer(method, body)
            return Call("", method, body, {}, 200, answer), json.dumps(answer).encode(), headers
        answer = {"ok": False, "error": failure.error}
        payload = json.dumps(answer).encode()
        if not failure.error:
            answer, payload, headers = {}, _OUTAGE_PAGE, {"Content-Type": "text/html"}
        call = Call("", method, body, {}, failure.status, answer)
        return call, payload, {**headers, **failure.headers}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = _parse(self.path, self.headers.get("Content-Type") or "", raw)
                if self.path.startswith("/api/"):
                    method = self.path[len("/api/") :].split("?")[0]
                    call, payload, headers = fake._api(method, body)
                else:
                    method = "response" if self.path.startswith("/response/") else "upload"
                    call, payload = Call("", method, body, {}), b"ok"
                    headers = {"Content-Type": "text/plain"}
                call.path = self.path
                call.headers = {k.lower(): v for k, v in self.headers.items()}
                fake._record(call)
                self.send_response(call.status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST  # noqa: N815

        return Handler


def _parse(path: str, content_type: str, raw: bytes) -> dict[str, Any]:
    body: dict[str, Any]
    if path.startswith("/upload/"):  # file bytes, whatever the header says
        body = {"raw": raw.decode(errors="replace")}
    elif "json" in content_type:
        body = json.loads(raw or b"{}")
    elif "x-www-form-urlencoded" in content_type:
        body = dict(parse_qsl(raw.decode()))
    else:
        body = {"raw": raw.decode(errors="replace")}
    for key in ("blocks", "view", "attachments"):
        if isinstance(body.get(key), str):
            body[key] = json.loads(body[key])
    return body


def _path(url: str) -> str:
    return "/" + url.split("/", 3)[3] if url else ""
