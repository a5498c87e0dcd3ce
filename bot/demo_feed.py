"""The demo's channel feed: a loopback stand-in for Slack's Web API that prints what the alerts
pipeline posts, so a crash, a failed job and a recovery show in the console as they happen.

Only the HTTP boundary is replaced: the real watcher, incidents, outbox and deliverer run and
send their real requests here. Every method answers `ok`; posts and edits are printed.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

SHOWN = {"chat.postMessage": "", "chat.update": "(update) ", "chat.postEphemeral": "(private) "}


class ChannelFeed:
    """`ChannelFeed(show).start()`; `url` is SLACK_API_URL for the demo; `stop()` closes it."""

    def __init__(self, show: Callable[[str], None]) -> None:
        self.show = show
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/api/"

    def start(self) -> ChannelFeed:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        feed = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("utf-8", "replace")
                method = self.path.rsplit("/", 1)[-1]
                feed.received(method, _fields(body, self.headers.get("Content-Type", "")))
                answer = json.dumps({"ok": True, "ts": f"{time.time():.6f}", "channel": "C0"})
                data = answer.encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:  # the console is no access log
                pass

        return Handler

    def received(self, method: str, fields: dict[str, Any]) -> None:
        if method not in SHOWN:
            return
        channel = str(fields.get("channel") or "")
        first = str(fields.get("text") or "").strip().splitlines()[:3]
        for i, line in enumerate(first):
            mark = f"[#{channel} feed] {SHOWN[method]}" if i == 0 else "    "
            self.show(f"{mark}{line}")


def _fields(body: str, content_type: str) -> dict[str, Any]:
    if "json" in content_type:
        try:
            data = json.loads(body or "{}")
        except json.JSONDecodeError:
            return {}
        return data if isinstance(data, dict) else {}
    return {k: v[0] for k, v in parse_qs(body).items()}
