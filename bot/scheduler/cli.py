"""CLI: `supbot scheduler`, `jobs`, `job run|history`, `schedule run [@node]`, `commands`, `run`.

The CLI acts as a local admin (whoever can run it can run the jobs by hand anyway); every run
is audited as `cli:<login>`. `job run` and `schedule run` wait for the runs to finish and exit 1
when one failed; `run` prints the command's exit code and exits 0 only when it succeeded.
Laravel's side (`schedule run @node`, `job run <laravel-task>`) goes through the same
`laravel_run` as `/sup`, and reports like `run`.
"""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.auth import Access, Authorizer
from bot.cli import CliCommand
from bot.commands.render import CommandRunReply, CommandsReply
from bot.durations import parse_duration
from bot.errors import ExitStatus
from bot.grammar import Command
from bot.render.jsonout import dumps, to_plain
from bot.render.text import render_text
from bot.replies import Reply
from bot.scheduler.laravel_json import laravel_list_json
from bot.scheduler.laravel_verbs import is_laravel_run, laravel_run
from bot.scheduler.render import (
    JobHistoryReply,
    JobOutputReply,
    JobRunReply,
    JobsReply,
    ScheduleRunReply,
)
from bot.scheduler.verbs import jobs_reply
from bot.services import Runtime, Services


def _services(args: argparse.Namespace) -> tuple[Services, Access]:
    return Runtime(args.config).services, Authorizer.local_admin(getpass.getuser())


def _print(args: argparse.Namespace, reply: Reply, data: object | None = None) -> None:
    if getattr(args, "json", False):
        print(dumps(reply if data is None else data))
    else:
        print(render_text(reply))


# --- supbot scheduler ---------------------------------------------------------------------


def _configure_scheduler(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("scheduler", help="run [[jobs]] on their schedules (long-running)")
    p.add_argument(
        "--stop-grace",
        default="30s",
        help="on SIGTERM, how long running jobs may finish before they are killed (default 30s)",
    )


def _run_scheduler(args: argparse.Namespace) -> int:
    from bot.scheduler.runner import Runner

    runtime = Runtime(args.config)
    runtime.install_sighup()
    runner = Runner(lambda: runtime.services.jobs, parse_duration(args.stop_grace))
    runner.install_signals()
    return runner.run()


# --- jobs ---------------------------------------------------------------------------------


def _configure_jobs(sub: argparse._SubParsersAction) -> None:
    sub.add_parser(
        "jobs", help="scheduled jobs and Laravel's schedule: next runs, last result"
    ).add_argument("--json", action="store_true")


def _run_jobs(args: argparse.Namespace) -> int:
    services, access = _services(args)
    reply = jobs_reply(services.jobs, services.laravel, access)
    _print(args, reply, _jobs_data(reply))
    return ExitStatus.OK


def _jobs_data(reply: JobsReply) -> dict[str, object]:
    return {
        "jobs": reply.jobs,
        "runner": reply.runner,
        "laravel": laravel_list_json(reply.laravel),
        "laravel_errors": list(reply.laravel_errors),
    }


def _run_laravel(
    args: argparse.Namespace, services: Services, access: Access, command: Command
) -> int:
    """`schedule run @node` / `job run <laravel-task>`: output streamed, then the exit code."""
    as_json = getattr(args, "json", False)
    streamer = _Streamer()
    progress = None if as_json else lambda r: streamer(r.output)
    reply = laravel_run(services.laravel, services.jobs, access, command, progress, 1.0)
    if as_json:
        print(dumps({**to_plain(reply), "ok": reply.ok}))
        return ExitStatus.OK if reply.ok else ExitStatus.ERROR
    streamer(reply.output)
    if streamer.shown and not streamer.shown.endswith("\n"):
        print()
    print(f"{reply.shown}: {_finish_line(reply)}")
    return ExitStatus.OK if reply.ok else ExitStatus.ERROR


def _finish_line(reply: CommandRunReply) -> str:
    why = f" ({reply.error})" if reply.error else ""
    status = "ok" if reply.ok else "failed"
    return f"exit code {reply.exit_code} — {status} in {reply.duration:.1f}s{why}"


def _configure_job(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("job", help="run a job now, or show its history")
    p.add_argument("action", choices=("run", "history"))
    p.add_argument("name")
    p.add_argument("run_id", nargs="?", type=int, help="history: show this run's output")
    p.add_argument("--json", action="store_true")


def _run_job(args: argparse.Namespace) -> int:
    services, access = _services(args)
    jobs = services.jobs
    laravel = Command("job", (args.action, args.name))
    if args.run_id is None and is_laravel_run(services.laravel, jobs, laravel):
        return _run_laravel(args, services, access, laravel)
    tz = next((j.timezone for j in services.settings.jobs if j.name == args.name), "UTC")
    if args.action == "history" and args.run_id:
        run = jobs.get_run(access, args.run_id)
        output = jobs.run_output(access, run.id)
        _print(args, JobOutputReply(run, tz, output), {"run": run, "output": output})
        return ExitStatus.OK
    if args.action == "history":
        jobs.reconcile_jobs()
        runs = tuple(jobs.history(access, args.name))
        _print(args, JobHistoryReply(args.name, tz, runs), runs)
        return ExitStatus.OK
    started = jobs.run_now(access, args.name)
    print(f"{args.name}: run #{started.id} started", file=sys.stderr)
    try:
        run = jobs.wait(started.id)
    except KeyboardInterrupt:
        print(f"stopped waiting; `supbot job history {args.name}` shows it", file=sys.stderr)
        return ExitStatus.INTERRUPTED
    output = jobs.run_output(access, run.id)
    _print(args, JobRunReply(run, tz, access.actor.id, output), {"run": run, "output": output})
    return ExitStatus.OK if run.status == "ok" else ExitStatus.ERROR


def _configure_schedule(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "schedule", help="`schedule run`: run every job due now; `@node`: Laravel's schedule:run"
    )
    p.add_argument("action", choices=("run",))
    p.add_argument("node", nargs="?", help="@node: run `php artisan schedule:run` there")
    p.add_argument("--json", action="store_true")


def _run_schedule(args: argparse.Namespace) -> int:
    services, access = _services(args)
    if args.node:
        node = "@" + args.node.removeprefix("@")
        return _run_laravel(args, services, access, Command("schedule", ("run", node)))
    runs = services.jobs.schedule_run(access)
    done = tuple(services.jobs.wait(r.id) if r.id else r for r in runs)
    _print(args, ScheduleRunReply(done, services.settings.timezone), done)
    return ExitStatus.OK if all(r.status == "ok" for r in done) else ExitStatus.ERROR


# --- commands -----------------------------------------------------------------------------


def _configure_commands(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("commands", help="the allow-listed commands").add_argument(
        "--json", action="store_true"
    )


def _run_commands(args: argparse.Namespace) -> int:
    services, access = _services(args)
    specs = tuple(services.commands.list_commands(access))
    reply = CommandsReply(
        specs, frozenset(c.name for c in specs), tuple(services.commands.discovery_errors)
    )
    _print(args, reply, specs)
    return ExitStatus.OK


def _configure_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run an allow-listed command")
    p.add_argument("name")
    p.add_argument("args", nargs=argparse.REMAINDER, metavar="ARGS")


class _Streamer:
    """Prints what is new in each output tail as the command runs."""

    def __init__(self) -> None:
        self.shown = ""

    def __call__(self, tail: str) -> None:
        # When the tail window moved past what we printed, print the whole tail again.
        new = tail[len(self.shown) :] if tail.startswith(self.shown) else "\n" + tail
        if new:
            sys.stdout.write(new)
            sys.stdout.flush()
        self.shown = tail


def _run_run(args: argparse.Namespace) -> int:
    services, access = _services(args)
    streamer = _Streamer()
    result = services.commands.run(access, args.name, args.args, streamer, interval=1.0)
    if streamer.shown and not streamer.shown.endswith("\n"):
        print()
    reply = CommandRunReply.finished(result, access.actor.id)
    print(_finish_line(reply))
    return ExitStatus.OK if reply.ok else ExitStatus.ERROR


# The subcommands this module adds to `supbot` (bot/wiring.py loads them when named).
COMMANDS: dict[str, CliCommand] = {
    "scheduler": (_configure_scheduler, _run_scheduler),
    "jobs": (_configure_jobs, _run_jobs),
    "job": (_configure_job, _run_job),
    "schedule": (_configure_schedule, _run_schedule),
    "commands": (_configure_commands, _run_commands),
    "run": (_configure_run, _run_run),
}
