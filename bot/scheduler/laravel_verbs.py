"""`schedule run @node` and `job run <laravel-task>`: Laravel's own scheduler, run by hand.

Both are answered with a CommandRunReply (the output of the command, like `/sup run`); Slack
streams them the same way (handlers/flow.py asks `is_laravel_run`).
"""

from __future__ import annotations

import difflib
from collections.abc import Callable

from bot.auth import Access
from bot.commands.render import CommandRunReply
from bot.grammar import Command, quote
from bot.scheduler.jobs import JobService
from bot.scheduler.laravel_jobs import LaravelJobs, UnknownLaravel
from bot.usertext import quote as typed

Progress = Callable[[CommandRunReply], None] | None


def is_laravel_run(laravel: LaravelJobs, jobs: JobService, command: Command) -> bool:
    """`schedule run @x`, or `job run X` where X is no [[jobs]] entry and job sources exist."""
    args = command.args
    if command.verb == "schedule":
        return len(args) == 2 and args[1].startswith("@")
    return (
        command.verb == "job"
        and len(args) == 2
        and args[0].lower() == "run"
        and bool(laravel.sources)
        and jobs.launcher.job(args[1]) is None
    )


def check_laravel_run(
    laravel: LaravelJobs, jobs: JobService, access: Access, command: Command
) -> None:
    """Every refusal before anything runs (Slack answers those privately)."""
    if command.verb == "schedule":
        access.require_role("schedule_run")
        laravel.sources_for(command.args[1][1:])
        return
    found = laravel.find(access, command.args[1])
    if found is None:
        raise UnknownLaravel(_unknown(laravel, jobs, access, command.args[1]))
    laravel.check_test(access, found[1])


def laravel_run(
    laravel: LaravelJobs,
    jobs: JobService,
    access: Access,
    command: Command,
    on_progress: Progress = None,
    interval: float = 3.0,
) -> CommandRunReply:
    who = access.actor.mention
    name = command.args[1]

    def progress(shown: str, again: str) -> Callable[[str], None] | None:
        if on_progress is None:
            return None
        return lambda out: on_progress(
            CommandRunReply(name, (), out, True, actor_mention=who, again=again, shown_as=shown)
        )

    if command.verb == "schedule":
        node = name[1:]
        again = quote("schedule", "run", name)
        sources = laravel.sources_for(node)
        shown = " ".join(sources[0].run_argv) + (f"  ({node})" if len(sources) == 1 else "")
        results = laravel.schedule_run(access, node, progress(shown, again), interval)
        *_, (_, last) = results
        return CommandRunReply.finished(last, who, again, shown)
    found = laravel.find(access, name)
    if found is None:
        raise UnknownLaravel(_unknown(laravel, jobs, access, name))
    source, task = found
    again, shown = quote("job", "run", name), " ".join(source.test_argv(task.name))
    result = laravel.test_run(access, source, task, progress(shown, again), interval)
    return CommandRunReply.finished(result, who, again, shown)


def _unknown(laravel: LaravelJobs, service: JobService, access: Access, name: str) -> str:
    jobs = [j.name for j in service.visible(access)]
    tasks = [v.task.name for v in laravel.views(access) if v.task.testable]
    close = difflib.get_close_matches(name, jobs + tasks, n=1)
    hint = f" Did you mean `{close[0]}`?" if close else ""
    listing = ", ".join(f"`{k}`" for k in jobs + tasks) or "none"
    return f"No job or Laravel task {typed(name)} here.{hint} Jobs here: {listing}."
