"""A loopback Slack Web API: records chat.postMessage / chat.update, can answer errors."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int  # HTTP status; 400 marks a refusal answered `ok: false`
    ts: str = ""


@dataclass
class FakeSlack:
    calls: list[Call] = field(default_factory=list)
    # scripted answers: (status, headers) consumed one per request before normal answers
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    # while non-zero, every chat.* call is answered with this HTTP status (an outage)
    outage: int = 0
    # while set, every chat.* call is refused with this Slack error (HTTP 200, ok: false)
    refusal: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None
    _ts: int = 0

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def start(self) -> FakeSlack:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
                if self.headers.get("Content-Type", "").startswith("application/json"):
                    params = json.loads(body or "{}")
                else:
                    params = {k: v[0] for k, v in parse_qs(body).items()}
                fake.answer(self, self.path.rsplit("/", 1)[-1], params)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    def answer(self, handler: BaseHTTPRequestHandler, method: str, params: dict[str, Any]) -> None:
        with self.lock:
            if (self.script or self.outage) and method.startswith("chat."):
                status, headers = self.script.pop(0) if self.script else (self.outage, {})
                self.calls.append(Call(method, params, time.time(), status))
                body = (
                    b'{"ok": false, "error": "ratelimited"}'
                    if status == 429
                    else b"<html>down</html>"
                )
                handler.send_response(status)
                for k, v in headers.items():
                    handler.send_header(k, v)
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)
                return
            refused = self.refusal if method.startswith("chat.") else ""
            self._ts += 1
            ts = params.get("ts") or f"1700000000.{self._ts:06d}"
            self.calls.append(Call(method, params, time.time(), 400 if refused else 200, ts))
        data = {"ok": True, "channel": params.get("channel"), "ts": ts}
        if refused:
            data = {"ok": False, "error": refused}
        if method == "auth.test":
            data = {"ok": True, "user_id": "UBOT", "team_id": "T1", "bot_id": "B1"}
        body = json.dumps(data).encode()
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    # --- what Slack users would see ----------------------------------------------------

    def ok(self, method: str | None = None) -> list[Call]:
        with self.lock:
            return [
                c for c in self.calls if c.status == 200 and (method is None or c.method == method)
            ]

    def posts(self, channel: str | None = None, top_level: bool | None = None) -> list[Call]:
        out = [c for c in self.ok("chat.postMessage") if channel in (None, c.params.get("channel"))]
        if top_level is not None:
            out = [c for c in out if ("thread_ts" not in c.params) == top_level]
        return out

    def messages(self) -> dict[str, dict[str, Any]]:
        """The latest version of every top-level message, by ts (updates applied)."""
        out: dict[str, dict[str, Any]] = {}
        for c in self.ok():
            if c.method == "chat.postMessage" and "thread_ts" not in c.params:
                out[c.ts] = c.params
            elif c.method == "chat.update":
                out[c.params["ts"]] = c.params
        return out


def button_values(params: dict[str, Any]) -> list[str]:
    blocks = params.get("blocks") or []
    if isinstance(blocks, str):
        blocks = json.loads(blocks)
    return [e["value"] for b in blocks if b.get("type") == "actions" for e in b.get("elements", [])]


def all_text(params: dict[str, Any]) -> str:
    return json.dumps(params, ensure_ascii=False)
