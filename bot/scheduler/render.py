"""Replies of the jobs verbs, their buttons and their terminal rendering.

Slack rendering of the same replies lives in `render_slack.py`; bot/wiring.py installs the
tables at the bottom of both modules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

from bot.durations import format_duration
from bot.grammar import quote
from bot.replies import Choice, PublicReply, Reply
from bot.scheduler import cron
from bot.scheduler.jobs import JobView, RunnerStatus
from bot.scheduler.laravel_jobs import LaravelView
from bot.storage.job_records import JobRun


@dataclass(frozen=True)
class JobsReply(Reply):
    jobs: tuple[JobView, ...]
    runner: RunnerStatus
    laravel: tuple[LaravelView, ...] = ()  # [[job_sources]]: tasks the application schedules
    laravel_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class JobRunReply(PublicReply):
    """A job started by hand (or refused) — posted in the channel."""

    run: JobRun
    timezone: str
    actor_mention: str = ""
    output: str = ""


@dataclass(frozen=True)
class JobHistoryReply(Reply):
    job: str
    timezone: str
    runs: tuple[JobRun, ...]
    can_run: bool = False


@dataclass(frozen=True)
class JobOutputReply(Reply):
    run: JobRun
    timezone: str
    output: str


@dataclass(frozen=True)
class ScheduleRunReply(PublicReply):
    runs: tuple[JobRun, ...]
    timezone: str
    actor_mention: str = ""


# --- words shared by text and Slack ------------------------------------------------------------

STATUS_WORD = {
    "ok": "ok",
    "failed": "FAILED",
    "missed": "MISSED",
    "running": "running",
    "interrupted": "INTERRUPTED",
    "skipped": "skipped",
}


def run_summary(run: JobRun) -> str:
    """'failed (exit 1) in 3s' / 'running for 12s' / 'missed 3 scheduled runs…'."""
    word = STATUS_WORD.get(run.status, run.status)
    if run.status == "running":
        return f"running for {format_duration(_age(run.started))}"
    if run.status in ("missed", "skipped"):
        return f"{word}: {run.error}" if run.error else word
    exit_part = f" (exit {run.exit_code})" if run.exit_code is not None else ""
    took = f" in {_took(run.duration)}" if run.duration is not None else ""
    why = f" — {run.error}" if run.error else ""
    return f"{word}{exit_part}{took}{why}"


def _took(seconds: float) -> str:
    return f"{seconds:.1f}s" if seconds < 10 else format_duration(seconds)


def _age(epoch: float) -> float:
    import time

    return time.time() - epoch


# --- choices ----------------------------------------------------------------------------------


def job_choices(name: str, can_run: bool) -> list[Choice]:
    out = [Choice(f"Run {name} now", quote("job", "run", name), "primary", f"Run {name} now?")]
    return (out if can_run else []) + [Choice(f"History {name}", quote("job", "history", name))]


def jobs_choices(reply: JobsReply) -> list[Choice]:
    out: list[Choice] = []
    for view in reply.jobs:
        out += job_choices(view.job.name, view.can_run)
    for lv in reply.laravel:
        if lv.can_run:
            name = lv.task.name
            out.append(Choice(f"Run {name} now", quote("job", "run", name), "", f"Run {name}?"))
    return out


def job_run_choices(reply: JobRunReply) -> list[Choice]:
    return [Choice("History", quote("job", "history", reply.run.job))]


def job_history_choices(reply: JobHistoryReply) -> list[Choice]:
    out = [
        Choice(f"Output #{r.id}", quote("job", "history", reply.job, str(r.id)))
        for r in reply.runs
        if r.finished and r.status != "missed"
    ][:8]
    if reply.can_run:
        out.insert(0, job_choices(reply.job, True)[0])
    return out


def job_output_choices(reply: JobOutputReply) -> list[Choice]:
    return [Choice("History", quote("job", "history", reply.run.job))]


def schedule_run_choices(reply: ScheduleRunReply) -> list[Choice]:
    return [Choice(f"History {r.job}", quote("job", "history", r.job)) for r in reply.runs][:10]


# --- terminal ---------------------------------------------------------------------------------


def runner_line(runner: RunnerStatus) -> str:
    if runner.live:
        return f"scheduler: running (pid {runner.pid})"
    if runner.stopping:
        return "scheduler: stopping — no new runs start until it is back"
    seen = f", last seen {format_duration(_age(runner.seen))} ago" if runner.seen else ""
    return (
        f"! scheduler: NOT running{seen} — jobs do not start on schedule; missed runs are "
        "recorded (start `supbot scheduler`)"
    )


def laravel_lines(
    view: LaravelView, when: Callable[[float], str], esc: Callable[[str], str] = str
) -> list[str]:
    """The lines of one Laravel task, shared by text and Slack (`when` formats a time, `esc`
    escapes the application's words)."""
    task = view.task
    repeat = f", repeating every {task.repeat_seconds}s" if task.repeat_seconds else ""
    lines = [f"  {esc(view.description)}{repeat} ({view.timezone})"]
    if task.description:
        lines.append(f"  {esc(task.description)}")
    agrees = " (Laravel's next due agrees)" if view.agrees else ""
    lines.append(f"  next: {', '.join(when(t) for t in view.next_runs) or '-'}{agrees}")
    if view.agrees is False and task.next_due is not None:
        lines.append(
            f"  ! Laravel says next due {when(task.next_due)}: set `timezone` on the job "
            "source if the application runs in another zone"
        )
    if view.also_job:
        lines.append(f"  also run by supbot as job `{esc(view.also_job)}`")
    return lines


def laravel_mark(view: LaravelView) -> str:
    return "  [also a supbot job]" if view.also_job else ""


def jobs_text(reply: JobsReply) -> str:
    lines = [runner_line(reply.runner)]
    if not reply.jobs and not reply.laravel:
        return "\n".join([*lines, "No jobs visible here.", *_laravel_errors(reply)])
    for view in reply.jobs:
        job, secs = view.job, cron.has_seconds(view.job.schedule)
        lines += ["", f"{job.name}  `{job.schedule}`  {view.description} ({job.timezone})"]
        if job.description:
            lines.append(f"  {job.description}")
        nxt = ", ".join(cron.local_time(t, job.timezone, secs) for t in view.next_runs)
        lines.append(f"  next: {nxt or '-'}")
        last = view.last_run
        if last is None:
            lines.append("  last: never ran")
        else:
            when = cron.local_time(last.started, job.timezone, True)
            lines.append(f"  last: {run_summary(last)}, {when} (#{last.id}, {_by(last)})")
        if view.skipped:
            lines.append(f"  overlapping starts skipped so far: {view.skipped}")
    for lv in reply.laravel:
        lines += ["", f"{lv.task.command}  `{lv.task.expression}`  [Laravel: {lv.source}]"]
        lines[-1] += laravel_mark(lv)
        lines += laravel_lines(lv, partial(cron.local_time, tz_name=lv.timezone))
    return "\n".join(lines + _laravel_errors(reply))


def _laravel_errors(reply: JobsReply) -> list[str]:
    return [f"! job source {e}" for e in reply.laravel_errors]


def _by(run: JobRun) -> str:
    return run.actor or run.trigger if run.trigger != "schedule" else "schedule"


def job_run_text(reply: JobRunReply) -> str:
    run = reply.run
    who = f" by {reply.actor_mention}" if reply.actor_mention else ""
    head = f"{run.job}: run #{run.id}{who} — {run_summary(run)}"
    return head + (f"\n{reply.output}" if reply.output else "")


def job_history_text(reply: JobHistoryReply) -> str:
    if not reply.runs:
        return f"{reply.job}: no runs recorded yet."
    rows = [f"{reply.job}: last {len(reply.runs)} runs ({reply.timezone})"]
    for r in reply.runs:
        when = cron.local_time(r.started, reply.timezone, True)
        rows.append(f"  #{r.id:<5} {when}  {_by(r):<16} {run_summary(r)}")
    return "\n".join(rows)


def job_output_text(reply: JobOutputReply) -> str:
    r = reply.run
    when = cron.local_time(r.started, reply.timezone, True)
    head = f"== {r.job} run #{r.id}, {when}: {run_summary(r)} =="
    return f"{head}\n{reply.output or '(no output)'}"


def schedule_run_text(reply: ScheduleRunReply) -> str:
    if not reply.runs:
        return "No job is due now."
    return "\n".join(
        f"{r.job}: {'#' + str(r.id) + ' ' if r.id else ''}{run_summary(r)}" for r in reply.runs
    )


# What bot/wiring.py installs: the renderer of each reply type defined above.
CHOICES: dict[type, Callable[..., list[Choice]]] = {
    JobsReply: jobs_choices,
    JobRunReply: job_run_choices,
    JobHistoryReply: job_history_choices,
    JobOutputReply: job_output_choices,
    ScheduleRunReply: schedule_run_choices,
}
TEXT_RENDERERS: dict[type, Callable[..., str]] = {
    JobsReply: jobs_text,
    JobRunReply: job_run_text,
    JobHistoryReply: job_history_text,
    JobOutputReply: job_output_text,
    ScheduleRunReply: schedule_run_text,
}
