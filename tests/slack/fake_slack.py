"""A loopback stand-in for Slack's Web API and response_url endpoints: records every request.

Only the HTTP boundary is fake: the bot's real WebClient / WebhookClient talk to it.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl


@dataclass
class Call:
    path: str
    method: str  # Web API method ("chat.postMessage") or "response" / "upload"
    body: dict[str, Any]
    headers: dict[str, str]
    answer: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)

    def text(self) -> str:
        """Everything a user would read in this message: text and block texts."""
        if "_text" not in self.__dict__:  # waiters scan every call on every new one
            self.__dict__["_text"] = json.dumps(self.body, ensure_ascii=False)
        return str(self.__dict__["_text"])


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
        self.ws_url = ""
        self.not_in_channel: set[str] = set()
        self._rate_limited: dict[str, int] = {}
        self._failing: dict[str, tuple[int, str]] = {}
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
        self.server.shutdown()
        self.server.server_close()

    # --- test helpers ------------------------------------------------------------------

    def response_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/response/{next(self._ids)}"

    def rate_limit(self, method: str, times: int = 1) -> None:
        """Answer the next `times` calls of `method` with 429 + Retry-After: 1."""
        self._rate_limited[method] = times

    def fail(self, method: str, status: int = 500, error: str = "internal_error") -> None:
        """Answer every later call of `method` with this HTTP status and Slack error."""
        self._failing[method] = (status, error)

    def of(self, method: str, since: int = 0) -> list[Call]:
        with self.cond:
            return [c for c in self.calls[since:] if c.method == method]

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

    def mark(self) -> int:
        with self.cond:
            return len(self.calls)

    # --- the server --------------------------------------------------------------------

    def _record(self, call: Call) -> None:
        with self.cond:
            self.calls.append(call)
            self.cond.notify_all()

    def _answer(self, method: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if self._rate_limited.get(method):
            self._rate_limited[method] -= 1
            return 429, {"ok": False, "error": "ratelimited"}
        if method in self._failing:
            status, error = self._failing[method]
            return status, {"ok": False, "error": error}
        channel = body.get("channel") or body.get("channel_id") or ""
        if method in ("chat.postMessage", "chat.update") and channel in self.not_in_channel:
            return 200, {"ok": False, "error": "not_in_channel"}
        if method == "auth.test":
            return 200, {
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
            return 200, {"ok": True, "channel": channel, "ts": ts, "message": {"ts": ts}}
        if method == "chat.update":
            return 200, {"ok": True, "channel": channel, "ts": body.get("ts")}
        if method == "usergroups.users.list":
            return 200, {"ok": True, "users": self.usergroups.get(body.get("usergroup", ""), [])}
        if method == "apps.connections.open":
            return 200, {"ok": True, "url": self.ws_url}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._ids)}"
            url = f"http://127.0.0.1:{self.port}/upload/{file_id}"
            return 200, {"ok": True, "upload_url": url, "file_id": file_id}
        if method == "files.completeUploadExternal":
            files = json.loads(body.get("files") or "[]")
            return 200, {"ok": True, "files": files}
        if method == "views.publish":
            return 200, {"ok": True, "view": {"id": "V0HOME"}}
        return 200, {"ok": True}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                kind = self.headers.get("Content-Type") or ""
                body: dict[str, Any]
                if self.path.startswith("/upload/"):  # file bytes, whatever the header says
                    body = {"raw": raw.decode(errors="replace")}
                elif "json" in kind:
                    body = json.loads(raw or b"{}")
                elif "x-www-form-urlencoded" in kind:
                    body = dict(parse_qsl(raw.decode()))
                else:
                    body = {"raw": raw.decode(errors="replace")}
                for key in ("blocks", "view", "attachments"):
                    if isinstance(body.get(key), str):
                        body[key] = json.loads(body[key])
                headers = {k.lower(): v for k, v in self.headers.items()}
                if self.path.startswith("/api/"):
                    method = self.path[len("/api/") :].split("?")[0]
                    status, answer = fake._answer(method, body)
                    fake._record(Call(self.path, method, body, headers, answer))
                    payload = json.dumps(answer).encode()
                    self.send_response(status)
                    if status == 429:
                        self.send_header("Retry-After", "1")
                    self.send_header("Content-Type", "application/json")
                else:
                    method = "response" if self.path.startswith("/response/") else "upload"
                    fake._record(Call(self.path, method, body, headers))
                    payload = b"ok"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST  # noqa: N815

        return Handler
