"""CLI: `supbot scheduler`, `jobs`, `job run|history`, `schedule run`, `commands`, `run`.

The CLI acts as a local admin (whoever can run it can run the jobs by hand anyway); every run
is audited as `cli:<login>`. `job run` and `schedule run` wait for the runs to finish and exit 1
when one failed; `run` prints the command's exit code and exits 0 only when it succeeded.
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
from bot.render.jsonout import dumps
from bot.render.text import render_text
from bot.replies import Reply
from bot.scheduler.render import (
    JobHistoryReply,
    JobOutputReply,
    JobRunReply,
    JobsReply,
    ScheduleRunReply,
)
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
    sub.add_parser("jobs", help="scheduled jobs: schedule, next runs, last result").add_argument(
        "--json", action="store_true"
    )


def _run_jobs(args: argparse.Namespace) -> int:
    services, access = _services(args)
    services.jobs.reconcile_jobs()
    reply = JobsReply(tuple(services.jobs.list_jobs(access)), services.jobs.runner_status())
    _print(args, reply)
    return ExitStatus.OK


def _configure_job(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("job", help="run a job now, or show its history")
    p.add_argument("action", choices=("run", "history"))
    p.add_argument("name")
    p.add_argument("run_id", nargs="?", type=int, help="history: show this run's output")
    p.add_argument("--json", action="store_true")


def _run_job(args: argparse.Namespace) -> int:
    services, access = _services(args)
    jobs = services.jobs
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
    p = sub.add_parser("schedule", help="`schedule run`: run every job that is due now")
    p.add_argument("action", choices=("run",))
    p.add_argument("--json", action="store_true")


def _run_schedule(args: argparse.Namespace) -> int:
    services, access = _services(args)
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
    status = "ok" if reply.ok else "failed"
    why = f" ({result.error})" if result.error else ""
    print(f"exit code {result.exit_code} — {status} in {result.duration:.1f}s{why}")
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
