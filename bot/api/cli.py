"""`supbot api`: serve only the JSON API (serve --http mounts it next to /slack/events)."""

from __future__ import annotations

import argparse
import logging
import threading
from typing import TYPE_CHECKING

from bot.api.app import api_app
from bot.cli import CliCommand
from bot.errors import ExitStatus, UsageError
from bot.services import Runtime
from bot.web.health import Health, nodes_check, state_check

if TYPE_CHECKING:
    import uvicorn

log = logging.getLogger("supbot.api")


def parse_listen(listen: str) -> tuple[str, int]:
    """'127.0.0.1:8080' → ('127.0.0.1', 8080); '[::1]:8080' works too."""
    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UsageError(f"[api] listen must be HOST:PORT, like 127.0.0.1:8080; got {listen!r}.")
    return host.strip("[]") or "127.0.0.1", int(port)


def _server(runtime: Runtime, listen: str, health: Health | None = None) -> uvicorn.Server:
    from bot.web.server import server

    host, port = parse_listen(listen)
    app = api_app(runtime, health or api_health(runtime))
    return server(app, host, port)


def api_health(runtime: Runtime) -> Health:
    """/readyz of `supbot api`: the state database; unreachable nodes and the leases noted."""
    from bot.ha.status import lease_detail

    return Health(
        state_check(runtime),
        notes=(nodes_check(runtime),),
        detail=lambda: lease_detail(runtime.services.store, []),
    )


def start_api_server(
    runtime: Runtime, listen: str, health: Health | None = None
) -> tuple[uvicorn.Server, threading.Thread]:
    """Serve the API in a background thread (Socket Mode: `[api] listen`); returns the
    uvicorn server (set `.should_exit = True` to stop it) and its thread. `health` is what
    its /readyz checks (default: `api_health`)."""
    server = _server(runtime, listen, health)
    thread = threading.Thread(target=server.run, name="supbot-api", daemon=True)
    thread.start()
    return server, thread


def configure(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("api", help="serve the JSON API only (see [[api_tokens]])")
    p.add_argument("--listen", help="HOST:PORT (default [api] listen, else 127.0.0.1:8080)")


def run(args: argparse.Namespace) -> int:
    runtime = Runtime(args.config)
    if not runtime.settings.api_tokens:
        raise UsageError("The API is off: add an [[api_tokens]] entry to the configuration.")
    listen = args.listen or runtime.settings.api_listen or "127.0.0.1:8080"
    runtime.install_sighup()
    log.info("serving the API on http://%s/api/v1", listen)
    _server(runtime, listen).run()
    return ExitStatus.OK


# The subcommands this module adds to `supbot` (bot/wiring.py loads them when named).
COMMANDS: dict[str, CliCommand] = {
    "api": (configure, run),
}
