"""`supbot`: the command line. Its plugin subcommands and the renderers come from bot/wiring.py.

Subcommands that are `/sup` verbs (status, info, start, …) take their words through the `/sup`
grammar and run through the same dispatcher as Slack and the console; argparse declares only
what the CLI alone has (--config, --json, --node, and the CLI-only subcommands).
Exit codes: `ExitStatus` (bot/errors.py).
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from collections.abc import Callable
from dataclasses import replace

from bot import errors, grammar, wiring
from bot.audit import dump as dump_audit
from bot.auth import Access, Authorizer
from bot.config_reader import ConfigError
from bot.dispatch import MUTATING
from bot.durations import DurationError, parse_duration
from bot.errors import ExitStatus
from bot.grammar import Command
from bot.log_follow import follow_log
from bot.render.jsonout import dumps
from bot.render.text import render_text
from bot.replies import ActionReply, ReloadReply, Reply, StatusReply, TailReply
from bot.services import Runtime

Subcommand = Callable[[argparse.Namespace], int]
# A plugin subcommand (serve, listen, scheduler, jobs …): how to declare it, how to run it.
# Plugin modules list theirs in `COMMANDS`; bot/wiring.py loads the one a command needs.
CliCommand = tuple[Callable[[argparse._SubParsersAction], None], Subcommand]

# The `/sup` verbs the CLI offers as subcommands; their words are parsed by the grammar.
SUP_VERBS: tuple[str, ...] = ("status", "info", "start", "stop", "restart", "signal", "tail")
SUP_VERBS += ("clear", "silence", "silences", "unsilence")
# What the CLI adds to those commands: it always reads fresh, and a command typed whole in a
# shell is already confirmed (no confirm step as in Slack).
CLI_FLAGS = {"status": frozenset({"--fresh"}), **{v: frozenset({"--yes"}) for v in MUTATING}}


def build_parser(plugins: dict[str, CliCommand]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="supbot", description="Supervisor chat-ops from a terminal."
    )
    parser.add_argument(
        "--config", help="TOML config file (default $SUPBOT_CONFIG or ./supbot.toml)"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in SUP_VERBS:
        verb = grammar.VERBS[name]
        p = sub.add_parser(
            name,
            help=verb.summary,
            usage=f"supbot {verb.usage} [--json]",
            description=f"{verb.summary}; the words are those of `/sup {name}`.",
            allow_abbrev=False,  # `--st` must reach the grammar as typed, not become --json
        )
        p.add_argument("--json", action="store_true", help="machine-readable output")
        if name == "status":
            p.add_argument("--node", help="only this node (as PATTERN@NODE)")
            p.add_argument(
                "--self",
                dest="self_status",
                action="store_true",
                help="supbot itself: replicas, listeners, scheduler, agents, leases",
            )
    p = sub.add_parser("reload", help="reread + update")
    p.add_argument("--dry-run", action="store_true")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub.add_parser("nodes", help="the configured supervisord nodes").add_argument(
        "--json", action="store_true", help="machine-readable output"
    )
    p = sub.add_parser("audit", help="the audit log")
    p.add_argument("--since", default="24h")
    p.add_argument("--json", action="store_true", help="machine-readable output")
    sub.add_parser("console", help="the /sup chat in a terminal")
    sub.add_parser("demo", help="embedded supervisord + console, no Slack needed")
    sub.add_parser("check-config", help="validate the configuration and exit")
    for configure, _ in plugins.values():
        configure(sub)
    return parser


def sup_command(args: argparse.Namespace, words: list[str]) -> Command:
    """The `/sup` command a CLI invocation names, through the grammar (UsageError if bad)."""
    command = grammar.parse(grammar.quote(args.command, *words))
    node = getattr(args, "node", None)
    if node:
        command = replace(command, args=((command.args[0] if command.args else "") + f"@{node}",))
    return replace(command, flags=command.flags | CLI_FLAGS.get(command.verb, frozenset()))


def _reply_exit(reply: Reply) -> ExitStatus:
    if isinstance(reply, ActionReply):
        return ExitStatus.OK if reply.report.ok else ExitStatus.ERROR
    if isinstance(reply, ReloadReply):
        return ExitStatus.OK if all(r.ok for r in reply.results) else ExitStatus.ERROR
    if isinstance(reply, StatusReply) and any(n.error for n in reply.view.nodes):
        return ExitStatus.NODE_UNREACHABLE
    return ExitStatus.OK


def _output(args: argparse.Namespace, reply: Reply) -> ExitStatus:
    if getattr(args, "json", False):
        print(dumps(reply))
    else:
        print(render_text(reply))
        if isinstance(reply, StatusReply):
            for node in reply.view.nodes:
                if node.error:
                    print(f"node `{node.node}` unreachable ({node.error})", file=sys.stderr)
    return _reply_exit(reply)


def _local_admin() -> Access:
    return Authorizer.local_admin(getpass.getuser())


def _run(args: argparse.Namespace, words: list[str], plugins: dict[str, CliCommand]) -> int:
    if args.command == "demo":
        from bot.demo import run_demo

        return run_demo()
    if args.command in plugins:
        return plugins[args.command][1](args)
    if getattr(args, "self_status", False):
        if words:
            raise errors.UsageError(
                "`supbot status --self` takes no pattern: it lists supbot's own processes."
            )
        return _self_status(args, Runtime(args.config))
    if args.command in SUP_VERBS:
        command = sup_command(args, words)  # a usage error needs no configuration
        return _run_sup(args, command, Runtime(args.config))
    return CLI_ONLY[args.command](args, Runtime(args.config))


def _run_sup(args: argparse.Namespace, command: Command, runtime: Runtime) -> ExitStatus:
    services, access = runtime.services, _local_admin()
    reply = services.dispatcher.run(access, command)
    code = _output(args, reply)
    if isinstance(reply, TailReply) and reply.follow:
        follow_log(services.processes, access, reply.tail, lambda line: print(line, flush=True))
    return code


def _self_status(args: argparse.Namespace, runtime: Runtime) -> ExitStatus:
    from bot.ha import status

    found = status.gather(runtime.services.store)
    print(dumps(found) if args.json else status.render(found))
    return ExitStatus.OK


def _check_config(args: argparse.Namespace, runtime: Runtime) -> ExitStatus:
    settings = runtime.services.settings
    print(f"{settings.source}: ok ({len(settings.nodes)} nodes)")
    return ExitStatus.OK


def _console(args: argparse.Namespace, runtime: Runtime) -> int:
    from bot.console import run_console

    return run_console(runtime)


def _audit(args: argparse.Namespace, runtime: Runtime) -> ExitStatus:
    entries = runtime.services.audit.since(parse_duration(args.since))
    if args.json:
        print(dump_audit(entries))
        return ExitStatus.OK
    from tabulate import tabulate

    rows = [(_t(e.at), e.actor, e.surface, e.action, e.target, e.outcome, e.error) for e in entries]
    print(tabulate(rows, headers=["at", "actor", "via", "action", "target", "outcome", "error"]))
    return ExitStatus.OK


def _reload(args: argparse.Namespace, runtime: Runtime) -> ExitStatus:
    """Unlike `/sup reload` (preview, then Apply), the CLI applies at once unless --dry-run."""
    from bot.replies import ReloadPreviewReply

    services, access = runtime.services, _local_admin()
    preview = ReloadPreviewReply(tuple(services.reload.preview(access)))
    if args.dry_run or preview.empty:
        return _output(args, preview)
    fingerprints = [d.fingerprint for d in preview.diffs if not d.empty]
    return _output(
        args, ReloadReply(tuple(services.reload.apply(access, fingerprints)), access.actor.id)
    )


def _t(epoch: float) -> str:
    import time

    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def _nodes(args: argparse.Namespace, runtime: Runtime) -> ExitStatus:
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
    if any(not r["reachable"] for r in rows):
        return ExitStatus.NODE_UNREACHABLE
    return ExitStatus.OK


# Subcommands only the CLI has (the `/sup` verbs go through the dispatcher).
CLI_ONLY: dict[str, Callable[[argparse.Namespace, Runtime], int]] = {
    "check-config": _check_config,
    "console": _console,
    "audit": _audit,
    "reload": _reload,
    "nodes": _nodes,
}
CORE_COMMANDS = {*SUP_VERBS, *CLI_ONLY, "demo"}


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    wiring.install_renderers()
    plugins = wiring.cli_commands(argv, CORE_COMMANDS)
    parser = build_parser(plugins)
    # A `/sup` verb's words (and options such as -n or --stderr) are left for the grammar.
    args, words = parser.parse_known_args(argv)
    if words and args.command not in SUP_VERBS:
        parser.error(f"unrecognized arguments: {' '.join(words)}")
    try:
        return _run(args, words, plugins)
    except ConfigError as exc:
        print(exc.report(), file=sys.stderr)
        return ExitStatus.USAGE
    except errors.SupbotError as exc:
        print(f"supbot: {exc}", file=sys.stderr)
        return exc.exit_code
    except DurationError as exc:
        print(f"supbot: {exc}", file=sys.stderr)
        return ExitStatus.USAGE
    except KeyboardInterrupt:
        return ExitStatus.INTERRUPTED
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
    return ExitStatus.ERROR


if __name__ == "__main__":
    sys.exit(main())
