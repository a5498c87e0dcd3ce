"""Loopback stand-ins for PagerDuty's Events API v2 and Opsgenie's Alert API, answering as
their documentation says: PagerDuty `POST /v2/enqueue` → 202 {"status": "success",
"message": "Event processed", "dedup_key": …} (400 {"status": "invalid event", …} for a
malformed event); Opsgenie `POST /v2/alerts`, `POST /v2/alerts/{alias}/acknowledge|close
?identifierType=alias` → 202 {"result": "Request will be processed", "took": …, "requestId": …}
(401 without the right `GenieKey`, 422 for a malformed request).

Each records every request; `fail(status, times)` answers that status first (an outage).
`accepted()` is what the pager took: (action, key) in order.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

SEVERITIES = {"critical", "error", "warning", "info"}


@dataclass
class PagerCall:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int
    action: str  # trigger | acknowledge | resolve (PagerDuty); create | acknowledge | close
    key: str  # dedup_key or alias


class _Fake:
    """The server and the record; subclasses answer one API."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.calls: list[PagerCall] = []
        self._failures: list[int] = []
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def fail(self, status: int, times: int) -> None:
        """Answer `status` to the next `times` requests (a 5xx outage, a 429 burst)."""
        with self._lock:
            self._failures += [status] * times

    def accepted(self) -> list[tuple[str, str]]:
        with self._lock:
            return [(c.action, c.key) for c in self.calls if 200 <= c.status < 300]

    def refused(self) -> int:
        with self._lock:
            return sum(not 200 <= c.status < 300 for c in self.calls)

    def answer(
        self, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], str, str]:
        raise NotImplementedError

    def _handle(self, path: str, raw: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = None
        status, answer, action, key = self.answer(path, body, headers)
        with self._lock:
            if self._failures and 200 <= status < 300:
                status = self._failures.pop(0)
                answer = {"status": "error", "message": "Internal Server Error"}
            self.calls.append(PagerCall(path, body or {}, headers, status, action, key))
        return status, json.dumps(answer).encode()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, payload = fake._handle(self.path, raw, headers)
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler


class FakePagerDuty(_Fake):
    def answer(
        self, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], str, str]:
        if path != "/v2/enqueue":
            return 404, {"status": "not found"}, "", ""
        problems = _pagerduty_problems(body, self.key)
        action = body.get("event_action", "") if isinstance(body, dict) else ""
        key = str(body.get("dedup_key", "")) if isinstance(body, dict) else ""
        if problems:
            invalid = {"status": "invalid event", "message": "Event object is invalid"}
            return 400, invalid | {"errors": problems}, action, key
        key = key or uuid.uuid4().hex
        return (
            202,
            {"status": "success", "message": "Event processed", "dedup_key": key},
            action,
            key,
        )

    def triggers(self) -> list[PagerCall]:
        return [c for c in self.calls if c.action == "trigger" and c.status == 202]


def _pagerduty_problems(body: Any, routing_key: str) -> list[str]:
    if not isinstance(body, dict):
        return ["Event object must be a JSON object"]
    problems = []
    if body.get("routing_key") != routing_key:
        problems.append("'routing_key' is invalid")
    action = body.get("event_action")
    if action not in ("trigger", "acknowledge", "resolve"):
        problems.append("'event_action' is invalid")
    if action in ("acknowledge", "resolve") and not body.get("dedup_key"):
        problems.append("'dedup_key' is required for acknowledge and resolve")
    if action == "trigger":
        payload = body.get("payload") or {}
        for field in ("summary", "source", "severity"):
            if not payload.get(field):
                problems.append(f"'payload.{field}' is missing or blank")
        if payload.get("severity") and payload["severity"] not in SEVERITIES:
            problems.append("'payload.severity' is invalid")
    return problems


class FakeOpsgenie(_Fake):
    def answer(
        self, path: str, body: Any, headers: dict[str, str]
    ) -> tuple[int, dict[str, Any], str, str]:
        request_id = str(uuid.uuid4())
        if headers.get("authorization") != f"GenieKey {self.key}":
            return (
                401,
                {"message": "Could not authenticate", "took": 0.0, "requestId": request_id},
                "",
                "",
            )
        url = urlparse(path)
        parts = url.path.strip("/").split("/")
        if not isinstance(body, dict):
            return 422, {"message": "Request body is not valid", "requestId": request_id}, "", ""
        if parts == ["v2", "alerts"]:
            if not body.get("message") or len(body["message"]) > 130:
                return 422, {"message": "Message can not be empty or longer than 130"}, "", ""
            action, key = "create", str(body.get("alias", ""))
        elif (
            len(parts) == 4
            and parts[:2] == ["v2", "alerts"]
            and parts[3] in ("acknowledge", "close")
        ):
            if parse_qs(url.query).get("identifierType") != ["alias"]:
                return 404, {"message": "Alert does not exist", "requestId": request_id}, "", ""
            action, key = parts[3], unquote(parts[2])
        else:
            return 404, {"message": "Not found", "requestId": request_id}, "", ""
        answer = {"result": "Request will be processed", "took": 0.01, "requestId": request_id}
        return 202, answer, action, key
