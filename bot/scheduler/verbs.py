"""The `/sup` verbs jobs, job, schedule, commands and run, plugged into the dispatcher.

`install(dispatcher, jobs, commands)` is called by `Services.build`. `run_command` is the
streaming form of `/sup run` for Slack (see bot/scheduler/render.py).
"""

from __future__ import annotations

from collections.abc import Callable

from bot import errors
from bot.auth import Access
from bot.dispatch import Dispatcher
from bot.grammar import Command
from bot.replies import Reply
from bot.scheduler.commands import CommandService
from bot.scheduler.jobs import JobService
from bot.scheduler.render import (
    CommandRunReply,
    CommandsReply,
    JobHistoryReply,
    JobOutputReply,
    JobRunReply,
    JobsReply,
    ScheduleRunReply,
)
from bot.usertext import quote

QUICK_WAIT = 5.0  # a job that finishes within this is answered with its result


class Verbs:
    def __init__(self, jobs: JobService, commands: CommandService) -> None:
        self.jobs, self.commands = jobs, commands

    def _tz(self, name: str) -> str:
        job = self.jobs.launcher.job(name)
        return job.timezone if job else self.jobs.settings.timezone

    def jobs_list(self, access: Access, command: Command) -> Reply:
        return JobsReply(tuple(self.jobs.list_jobs(access)), self.jobs.runner_status())

    def job(self, access: Access, command: Command) -> Reply:
        sub, name = command.args[0].lower(), command.args[1]
        if sub == "run" and len(command.args) == 2:
            run = self.jobs.wait(self.jobs.run_now(access, name).id, QUICK_WAIT)
            output = self.jobs.run_output(access, run.id) if run.finished else ""
            return JobRunReply(run, self._tz(name), access.actor.mention, output)
        if sub == "history" and len(command.args) == 2:
            runs = tuple(self.jobs.history(access, name))
            can_run = access.allows_named("job_run", "jobs", name)
            return JobHistoryReply(name, self._tz(name), runs, can_run)
        if sub == "history":
            raw = command.args[2].lstrip("#")
            if not raw.isdigit():
                raise errors.UsageError(f"{quote(raw, 20)} is not a run number, e.g. `42`.")
            run = self.jobs.get_run(access, int(raw))
            return JobOutputReply(run, self._tz(run.job), self.jobs.run_output(access, run.id))
        raise errors.UsageError("Usage: `job run <name>` or `job history <name> [run-id]`")

    def schedule(self, access: Access, command: Command) -> Reply:
        if command.args[0].lower() != "run":
            raise errors.UsageError("Usage: `schedule run`")
        runs = self.jobs.schedule_run(access)
        done = tuple(self.jobs.wait(r.id, QUICK_WAIT) if r.id else r for r in runs)
        return ScheduleRunReply(done, self.jobs.settings.timezone, access.actor.mention)

    def commands_list(self, access: Access, command: Command) -> Reply:
        specs = tuple(self.commands.list_commands(access))
        runnable = frozenset(
            c.name for c in specs if access.allows_named("run", "commands", c.name)
        )
        return CommandsReply(specs, runnable, tuple(self.commands.discovery_errors))

    def run(self, access: Access, command: Command) -> Reply:
        return run_command(self.commands, access, command)


def run_command(
    commands: CommandService,
    access: Access,
    command: Command,
    on_progress: Callable[[CommandRunReply], None] | None = None,
    interval: float = 3.0,
) -> CommandRunReply:
    """Run `/sup run NAME ARGS…`; `on_progress` gets a running reply every `interval` s."""
    name, args = command.args[0], tuple(command.args[1:])
    who = access.actor.mention

    def progress(output: str) -> None:
        if on_progress is not None:
            on_progress(CommandRunReply(name, args, output, True, actor_mention=who))

    result = commands.run(access, name, args, progress if on_progress else None, interval)
    return CommandRunReply.finished(result, who)


def install(dispatcher: Dispatcher, jobs: JobService, commands: CommandService) -> Verbs:
    verbs = Verbs(jobs, commands)
    dispatcher.register("jobs", verbs.jobs_list)
    dispatcher.register("job", verbs.job)
    dispatcher.register("schedule", verbs.schedule)
    dispatcher.register("commands", verbs.commands_list)
    dispatcher.register("run", verbs.run)
    return verbs
