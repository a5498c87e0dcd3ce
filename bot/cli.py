"""`supbot`: the command line. The only place (with bot/demo.py) that wires things together.

Exit codes: 0 ok, 1 an action failed (including partly), 2 usage or config error,
3 a node unreachable.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable

from bot import errors
from bot.audit import dump as dump_audit
from bot.auth import Authorizer
from bot.config import ConfigError
from bot.durations import DurationError, parse_duration
from bot.grammar import Command
from bot.render.jsonout import dumps
from bot.render.text import render_text
from bot.replies import ActionReply, ReloadReply, Reply, StatusReply
from bot.services import Runtime

Subcommand = Callable[[argparse.Namespace], int]
EXTRA_COMMANDS: dict[str, tuple[Callable[[argparse._SubParsersAction], None], Subcommand]] = {}


def add_command(
    name: str, configure: Callable[[argparse._SubParsersAction], None], run: Subcommand
) -> None:
    """Later features (serve, listen, scheduler, jobs …) add their subcommands here."""
    EXTRA_COMMANDS[name] = (configure, run)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supbot", description="Supervisor chat-ops from a terminal."
    )
    parser.add_argument(
        "--config", help="TOML config file (default $SUPBOT_CONFIG or ./supbot.toml)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def cmd(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help)
        p.add_argument("--json", action="store_true", help="machine-readable output")
        return p

    p = cmd("status", "process states")
    p.add_argument("pattern", nargs="?", default="")
    p.add_argument("--node")
    p.add_argument("--fresh", action="store_true", help="ignored: the CLI always reads fresh")
    cmd("info", "one process in detail").add_argument("name")
    for action in ("start", "stop", "restart"):
        cmd(action, f"{action} processes").add_argument("names", nargs="+", metavar="NAME")
    p = cmd("signal", "send a signal")
    p.add_argument("name")
    p.add_argument("signal")
    p = cmd("tail", "last lines of a log")
    p.add_argument("name")
    p.add_argument("-n", "--lines", type=int, default=100)
    p.add_argument("--stderr", action="store_true")
    p.add_argument("-f", "--follow", action="store_true")
    cmd("clear", "clear a process's logs").add_argument("name")
    cmd("reload", "reread + update").add_argument("--dry-run", action="store_true")
    cmd("nodes", "the configured supervisord nodes")
    cmd("audit", "the audit log").add_argument("--since", default="24h")
    sub.add_parser("console", help="the /sup chat in a terminal")
    sub.add_parser("demo", help="embedded supervisord + console, no Slack needed")
    sub.add_parser("check-config", help="validate the configuration and exit")
    for configure, _ in EXTRA_COMMANDS.values():
        configure(sub)
    return parser


def _reply_exit(reply: Reply) -> int:
    if isinstance(reply, ActionReply):
        return 0 if reply.report.ok else 1
    if isinstance(reply, ReloadReply):
        return 0 if all(r.ok for r in reply.results) else 1
    if isinstance(reply, StatusReply) and any(n.error for n in reply.view.nodes):
        return 3
    return 0


def _output(args: argparse.Namespace, reply: Reply) -> int:
    if getattr(args, "json", False):
        print(dumps(reply))
    else:
        print(render_text(reply))
        if isinstance(reply, StatusReply):
            for node in reply.view.nodes:
                if node.error:
                    print(f"node `{node.node}` unreachable ({node.error})", file=sys.stderr)
    return _reply_exit(reply)


def _command_for(args: argparse.Namespace) -> Command:
    c = args.command
    if c == "status":
        pattern = args.pattern + (f"@{args.node}" if args.node else "")
        return Command("status", (pattern,) if pattern else (), frozenset({"--fresh"}))
    if c in ("start", "stop", "restart"):
        return Command(c, tuple(args.names), frozenset({"--yes"}))
    if c == "signal":
        return Command(c, (args.name, args.signal), frozenset({"--yes"}))
    if c == "tail":
        flags = {"--stderr"} if args.stderr else set()
        return Command(
            c,
            (args.name,),
            frozenset(flags | ({"--follow"} if args.follow else set())),
            {"-n": str(args.lines)},
        )
    if c == "clear":
        return Command(c, (args.name,), frozenset({"--yes"}))
    return Command(c, (args.name,) if hasattr(args, "name") else ())


def _run(args: argparse.Namespace) -> int:
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo()
    runtime = Runtime(args.config)
    services = runtime.services
    if args.command == "check-config":
        print(f"{services.settings.source}: ok ({len(services.settings.nodes)} nodes)")
        return 0
    if args.command == "console":
        from bot.console import run_console

        return run_console(runtime)
    if args.command in EXTRA_COMMANDS:
        return EXTRA_COMMANDS[args.command][1](args)
    access = Authorizer.local_admin(getpass.getuser())
    if args.command == "nodes":
        return _nodes(args, runtime)
    if args.command == "audit":
        entries = services.audit.since(parse_duration(args.since))
        if args.json:
            print(dump_audit(entries))
        else:
            from tabulate import tabulate

            rows = [
                (_t(e.at), e.actor, e.surface, e.action, e.target, e.outcome, e.error)
                for e in entries
            ]
            print(
                tabulate(
                    rows, headers=["at", "actor", "via", "action", "target", "outcome", "error"]
                )
            )
        return 0
    if args.command == "reload":
        from bot.replies import ReloadPreviewReply

        preview = ReloadPreviewReply(tuple(services.reload.preview(access)))
        if args.dry_run or preview.empty:
            return _output(args, preview)
        fingerprints = [d.fingerprint for d in preview.diffs if not d.empty]
        return _output(
            args, ReloadReply(tuple(services.reload.apply(access, fingerprints)), access.actor.id)
        )
    reply = services.dispatcher.run(access, _command_for(args))
    code = _output(args, reply)
    if args.command == "tail" and args.follow:
        _follow(services, access, reply)
    return code


def _follow(services, access, reply) -> None:  # type: ignore[no-untyped-def]
    import time

    tail = reply.tail
    process = services.processes.find_one(access, f"{tail.process}@{tail.node}", "tail")
    offset, follower = tail.offset, services.processes.follower(process, tail)
    try:
        while True:
            time.sleep(1)
            lines, offset = services.processes.follow(process, offset, tail.stream, follower)
            for line in lines:
                print(line, flush=True)
    except KeyboardInterrupt:
        for line in follower.finish():  # a held partial line, redacted
            print(line, flush=True)


def _t(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _nodes(args: argparse.Namespace, runtime: Runtime) -> int:
    from tabulate import tabulate

    statuses = runtime.services.fleet.status(fresh=True)
    rows = []
    for node, status in zip(runtime.settings.nodes, statuses, strict=True):
        rows.append(
            {
                "name": node.name,
                "url": node.url,
                "reachable": status.error is None,
                "processes": len(status.processes),
                "local": status.local,
                "error": status.error or "",
            }
        )
    if args.json:
        print(dumps(rows))
    else:
        print(tabulate([list(r.values()) for r in rows], headers=list(rows[0]) if rows else []))
    return 3 if any(not r["reachable"] for r in rows) else 0


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    _load_plugins(argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return _run(args)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return 2
    except (errors.SupbotError, DurationError) as exc:
        print(f"supbot: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except KeyboardInterrupt:
        return 130
    except Exception:
        return _apologise()


def _apologise() -> int:
    """A bug: one line for the user, the traceback in a file named by the error id."""
    import tempfile
    import traceback
    import uuid
    from pathlib import Path

    error_id = uuid.uuid4().hex[:8]
    path = Path(tempfile.gettempdir()) / f"supbot-error-{error_id}.log"
    path.write_text(traceback.format_exc())
    print(
        f"supbot: sorry, something went wrong (error {error_id}; details in {path})",
        file=sys.stderr,
    )
    return 1


PLUGINS = {
    "bot.slack.serve": ("serve",),
    "bot.alerts.cli": ("listen", "alerts"),
    "bot.scheduler.cli": ("scheduler", "jobs", "job", "schedule", "commands", "run"),
    "bot.api.cli": ("api",),
}


def _load_plugins(argv: list[str] | None = None) -> None:
    """Import the modules that add subcommands (each registers itself with add_command).

    Only the one a command needs when it is named: `supbot status` must not pay for importing
    Bolt and uvicorn. `--help` (or no command) loads them all.
    """
    import importlib

    words = set(sys.argv[1:] if argv is None else argv)
    wanted = [m for m, commands in PLUGINS.items() if words & set(commands)]
    core = {"status", "info", "start", "stop", "restart", "signal", "tail", "clear", "reload"}
    core |= {"nodes", "audit", "console", "demo", "check-config"}
    if not wanted and not words & core:
        wanted = list(PLUGINS)
    for module in wanted:
        try:
            importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name is None or not module.startswith(exc.name):
                raise


if __name__ == "__main__":
    sys.exit(main())
