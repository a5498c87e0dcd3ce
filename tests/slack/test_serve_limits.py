"""`supbot serve --http` against hostile clients: oversized and endless bodies, slow heads,
floods of unsigned or malformed requests. One real serve process for the module."""

from __future__ import annotations

import hashlib
import hmac
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest
import requests

from tests.conftest import basic_toml, free_port, start_sample, wait_until
from tests.fakes.slack import FakeSlack
from tests.slack.harness import SECRET, serve, slack_env

MB = 1024 * 1024


@dataclass
class Served:
    base: str
    port: int
    pid: int
    log: Path

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    sv = start_sample(http=True)
    fake = FakeSlack().start()
    tmp = tmp_path_factory.mktemp("serve")
    (tmp / "supbot.toml").write_text(basic_toml(sv))
    port = free_port()
    log_path = tmp / "serve.log"
    with log_path.open("w") as log:
        proc = serve(
            tmp, slack_env(fake), "--http", "--host", "127.0.0.1", "--port", str(port), log=log
        )
        base = f"http://127.0.0.1:{port}"
        try:
            wait_until(lambda: _status(base + "/healthz") == 200, 30, 0.1)
            yield Served(base, port, proc.pid, log_path)
        finally:
            proc.terminate()
            proc.communicate(timeout=20)
            fake.stop()
            sv.stop()


def test_oversized_content_length_is_refused_with_413_before_the_body_is_sent(served):
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
        conn.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 400000000\r\n\r\n"
        )
        assert _read_status(conn) == 413  # not one byte of the body was sent


def test_a_chunked_body_over_the_limit_is_refused_without_buffering_it(served):
    before = psutil.Process(served.pid).memory_info().rss
    peak_before = _peak_rss(served.pid)
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as conn:
        conn.sendall(
            b"POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n"
        )
        answer: list[int] = []
        reader = threading.Thread(target=lambda: answer.append(_read_status(conn)))
        reader.start()
        chunk = b"%x\r\n" % MB + b"x" * MB + b"\r\n"
        try:
            for _ in range(50):  # 50 MB, unsigned
                conn.sendall(chunk)
        except OSError:  # the server closed the connection after answering: expected
            pass
        reader.join(30)
    assert answer == [413]
    # VmHWM is the process's peak RSS: the 50 MB never sat in memory, even briefly
    assert _peak_rss(served.pid) < max(peak_before, before + 20 * MB)


def test_a_request_head_sent_too_slowly_is_disconnected(served):
    with socket.create_connection(("127.0.0.1", served.port), timeout=2) as conn:
        conn.sendall(b"POST /slack/events HTTP/1.1\r\nHost: x\r\n")  # and never the rest

        def closed() -> bool:
            try:
                return conn.recv(1024) == b""
            except TimeoutError:
                return False

        wait_until(closed, 40, 0.1)


def test_a_thousand_unsigned_or_malformed_requests_are_refused_quietly(served):
    now = str(int(time.time()))
    garbage: list[tuple[bytes, dict[str, str]]] = [
        (b"\xff\xfe\x00garbage", {}),  # not UTF-8, unsigned
        (b"command=/sup", {"X-Slack-Request-Timestamp": "abc", "X-Slack-Signature": "v0=1"}),
        (b"{not json", {"X-Slack-Request-Timestamp": now, "X-Slack-Signature": "v0=00"}),
        (b"payload=%7Bbad", {}),
    ]
    signed_malformed = [
        b"\xff\xfe\x00 not utf-8",
        b"payload=%7Bbad",
        b"payload=[1]",
    ]
    size_before = served.log.stat().st_size
    statuses = []
    with requests.Session() as session:
        for i in range(1000):
            body, headers = garbage[i % len(garbage)]
            kind = (
                "application/json" if body.startswith(b"{") else "application/x-www-form-urlencoded"
            )
            r = session.post(
                served.base + "/slack/events",
                data=body,
                headers={"Content-Type": kind, **headers},
                timeout=10,
            )
            statuses.append(r.status_code)
        for body in signed_malformed:
            headers = {"Content-Type": "application/x-www-form-urlencoded", **_sign(body)}
            r = session.post(served.base + "/slack/events", data=body, headers=headers, timeout=10)
            assert r.status_code == 400, body
    assert set(statuses) <= {400, 401}
    added = served.log.read_bytes()[size_before:].decode(errors="replace")
    assert "Traceback" not in added
    assert len(added.splitlines()) <= 5, added[:2000]


def _sign(body: bytes) -> dict[str, str]:
    ts = str(int(time.time()))
    digest = hmac.new(SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256)
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + digest.hexdigest()}


def _read_status(conn: socket.socket) -> int:
    """The status code of the first response on `conn` (0 if it closed without one)."""
    data = b""
    while b"\r\n" not in data:
        try:
            chunk = conn.recv(4096)
        except OSError:
            return 0
        if not chunk:
            return 0
        data += chunk
    return int(data.split(b" ", 2)[1])


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/PID/status")


def _status(url: str) -> int:
    try:
        return requests.get(url, timeout=2).status_code
    except requests.RequestException:
        return 0
