"""Where the API is served: next to /slack/events (serve --http), or on [api] listen."""

from __future__ import annotations

import socket

import pytest
import requests
from slack_bolt import App

from bot.api.app import api_routes
from bot.api.cli import parse_listen, start_api_server
from bot.errors import UsageError
from bot.services import Runtime
from bot.slack.serve import http_app
from tests.api.conftest import TOKEN_ENV, TOKENS, Api, serve_app, stop
from tests.conftest import free_port, wait_until

AUTH = {"Authorization": f"Bearer {TOKENS['viewer']}"}


def test_api_is_mounted_next_to_slack_events(api: Api) -> None:
    bolt = App(token="xoxb-test", signing_secret="s3cr3t", token_verification_enabled=False)
    served = serve_app(http_app(bolt, api_routes(api.services), signing_secret="s3cr3t"))
    base = served.base
    try:
        assert requests.get(base + "/healthz", timeout=10).json() == {"ok": True}
        r = requests.get(base + "/api/v1/processes?pattern=web", headers=AUTH, timeout=10)
        assert r.status_code == 200
        assert [p["name"] for p in r.json()["processes"]] == ["web"]
        assert requests.get(base + "/api/v1/processes", timeout=10).status_code == 401
        # Slack's endpoint is still Bolt's, with its own signature check
        assert requests.post(base + "/slack/events", data="x", timeout=10).status_code == 401
    finally:
        stop(served)


def test_socket_mode_serves_the_api_on_api_listen(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in TOKEN_ENV.items():
        monkeypatch.setenv(name, value)
    listen = f"127.0.0.1:{free_port()}"
    runtime = Runtime(str(api.services.settings.source))
    server, thread = start_api_server(runtime, listen)
    try:
        wait_until(lambda: server.started, 10)
        r = requests.get(f"http://{listen}/api/v1/processes/web", headers=AUTH, timeout=10)
        assert r.json()["process"]["name"] == "web"
    finally:
        server.should_exit = True
        thread.join(10)
        runtime.services.close()


def test_listen_addresses() -> None:
    assert parse_listen("127.0.0.1:8080") == ("127.0.0.1", 8080)
    assert parse_listen("[::1]:9000") == ("::1", 9000)
    assert parse_listen(":8080") == ("127.0.0.1", 8080)
    for bad in ("8080", "host:", "host:http", "host:70000"):
        with pytest.raises(UsageError):
            parse_listen(bad)


def test_supbot_api_refuses_to_start_without_tokens(
    api: Api, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.cli import main

    config = api.services.settings.source.parent / "no-tokens.toml"
    text = api.services.settings.source.read_text()
    config.write_text(text.split("[[api_tokens]]")[0])
    assert main(["--config", str(config), "api"]) == 2
    assert "The API is off" in capsys.readouterr().err


def test_supbot_api_refuses_big_bodies_drops_slow_heads_and_reports_health(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in TOKEN_ENV.items():
        monkeypatch.setenv(name, value)
    host, port = "127.0.0.1", free_port()
    runtime = Runtime(str(api.services.settings.source))
    server, thread = start_api_server(runtime, f"{host}:{port}")
    try:
        wait_until(lambda: server.started, 10)
        assert requests.get(f"http://{host}:{port}/healthz", timeout=10).json() == {"ok": True}
        with socket.create_connection((host, port), timeout=10) as conn:
            conn.sendall(
                b"POST /api/v1/reload HTTP/1.1\r\nHost: x\r\nContent-Length: 9999999\r\n\r\n"
            )
            assert conn.recv(4096).startswith(b"HTTP/1.1 413")
        with socket.create_connection((host, port), timeout=2) as conn:
            conn.sendall(b"GET /api/v1/processes HTTP/1.1\r\n")  # the rest never comes

            def closed() -> bool:
                try:
                    return conn.recv(1024) == b""
                except TimeoutError:
                    return False

            wait_until(closed, 40, 0.1)
        store = runtime.services.store
        with store.connect() as db:
            db.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        size = store.path.stat().st_size
        with store.path.open("r+b") as f:  # the state database is damaged under the server
            f.write((b"this is not a database. " * size)[:size])
        answer = requests.get(f"http://{host}:{port}/readyz", timeout=10)
        assert answer.status_code == 503
        assert "is not a database" in answer.json()["down"]["state"]
        assert requests.get(f"http://{host}:{port}/healthz", timeout=10).status_code == 200
    finally:
        server.should_exit = True
        thread.join(10)
        runtime.services.close()
