"""A real supervisord and the API served by real uvicorn on an ephemeral port."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
import uvicorn
from starlette.applications import Starlette

from bot.api.app import api_app
from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from tests.conftest import PROGRAMS, PY, basic_toml, free_port, make_settings, short_tmp, wait_until

# `stubborn` ignores SIGTERM: a stop takes its whole stopwaitsecs before the SIGKILL.
# `leaky` prints a secret once, for the redaction test.
API_PROGRAMS = (
    PROGRAMS
    + f"""
[program:stubborn]
command={PY} -u -c "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(100000)"
startsecs=0
stopwaitsecs=2

[program:leaky]
command={PY} -u -c "import time; print('connecting with DB_PASSWORD=hunter2secret now', flush=True); time.sleep(100000)"
startsecs=0
"""
)

TOKENS = {
    "admin": "tok-admin-0123456789",
    "deploy": "tok-deploy-0123456789",
    "viewer": "tok-viewer-0123456789",
    "webview": "tok-webview-0123456789",
    "workerop": "tok-workerop-0123456789",
}

TOKENS_TOML = """
[[api_tokens]]
name = "admin"
token_env = "TOK_ADMIN"
role = "admin"
programs = ["*"]
jobs = ["*"]
commands = ["*"]

[[api_tokens]]
name = "deploy"
token_env = "TOK_DEPLOY"
role = "operator"
programs = ["web", "idle", "broken", "stubborn"]
jobs = ["nightly-*"]
commands = ["cache-*"]

[[api_tokens]]
name = "viewer"
token_env = "TOK_VIEWER"
role = "viewer"
programs = ["*"]
jobs = ["*"]
commands = ["*"]

[[api_tokens]]
name = "webview"
token_env = "TOK_WEBVIEW"
role = "viewer"
programs = ["web"]

[[api_tokens]]
name = "workerop"
token_env = "TOK_WORKEROP"
role = "operator"
programs = ["worker:*"]
"""

# Jobs and commands, quick Python one-liners (argv, never a shell).
SCHEDULED_TOML = f"""
[[jobs]]
name = "nightly-backup"
schedule = "0 3 * * *"
command = ["{PY}", "-c", "print('backup done')"]

[[jobs]]
name = "nightly-broken"
schedule = "0 4 * * *"
command = ["{PY}", "-c", "import sys; print('disk full'); sys.exit(4)"]

[[jobs]]
name = "report"
schedule = "0 5 * * 1"
command = ["{PY}", "-c", "print('report')"]

[[commands]]
name = "cache-clear"
command = ["{PY}", "-c", "print('cache cleared')"]
description = "Clear the cache"

[[commands]]
name = "cache-warm"
command = ["{PY}", "-c", "import sys; print('warming', *sys.argv[1:]); print('api_key=sk_live_abcdefghijklmnop1234')"]
args = "[a-z]+"

[[commands]]
name = "cache-fail"
command = ["{PY}", "-c", "import sys; print('cannot reach redis'); sys.exit(2)"]

[[commands]]
name = "migrate"
command = ["{PY}", "-c", "print('migrated')"]
"""

TOKEN_ENV = {f"TOK_{name.upper()}": token for name, token in TOKENS.items()}


@dataclass
class Api:
    """The served API; `call` sends a real HTTP request with the named token."""

    base: str
    services: Services
    session: requests.Session = field(default_factory=requests.Session)

    def call(
        self, method: str, path: str, token: str | None = "admin", **kw: Any
    ) -> requests.Response:
        headers = dict(kw.pop("headers", {}))
        if token is not None:
            headers["Authorization"] = f"Bearer {TOKENS.get(token, token)}"
        return self.session.request(method, self.base + path, headers=headers, timeout=30, **kw)

    def get(self, path: str, token: str | None = "admin", **kw: Any) -> requests.Response:
        return self.call("GET", path, token, **kw)

    def post(self, path: str, token: str | None = "admin", **kw: Any) -> requests.Response:
        return self.call("POST", path, token, **kw)

    def audit(self, actor: str) -> list[Any]:
        return [e for e in self.services.audit.since() if e.actor == actor]


@dataclass
class Served:
    server: uvicorn.Server
    thread: threading.Thread
    base: str


def serve(source: Services | Callable[[], Services]) -> Served:
    return serve_app(api_app(source))


def serve_app(app: Starlette) -> Served:
    """Real uvicorn in a thread on an ephemeral port."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_until(lambda: server.started, 10)
    return Served(server, thread, f"http://127.0.0.1:{port}")


def stop(served: Served) -> None:
    served.server.should_exit = True
    served.thread.join(10)


def api_services(
    sv: EmbeddedSupervisor, tmp: Path, extra: str = TOKENS_TOML + SCHEDULED_TOML
) -> Services:
    return Services.build(make_settings(tmp, basic_toml(sv, extra), TOKEN_ENV))


@pytest.fixture(scope="session")
def api_supervisor() -> Iterator[EmbeddedSupervisor]:
    """Shared by the API tests: tests that change state put it back."""
    from tests.conftest import start_sample

    sv = start_sample(API_PROGRAMS, running=5)
    yield sv
    sv.stop()


@pytest.fixture(scope="session")
def api(api_supervisor: EmbeddedSupervisor) -> Iterator[Api]:
    services = api_services(api_supervisor, short_tmp())
    served = serve(services)
    yield Api(served.base, services)
    stop(served)
    services.close()
