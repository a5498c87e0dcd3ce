"""Slack Block Kit for the jobs replies (pure: no network).

Dates are `<!date^EPOCH^…|fallback>`: each reader sees them in their own timezone; the fallback
text is in the job's timezone.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from slack_sdk.models.blocks import ActionsBlock, Block

from bot.choices import choices
from bot.grammar import quote
from bot.render.blocks import (
    MAX_SECTION,
    RenderContext,
    action_blocks,
    button,
    code,
    context,
    escape,
    lines_within,
    mention,
    preformatted,
    section,
)
from bot.replies import Choice
from bot.runs.execute import MESSAGE_OUTPUT
from bot.scheduler import cron
from bot.scheduler.render import (
    JobHistoryReply,
    JobOutputReply,
    JobRunReply,
    JobsReply,
    ScheduleRunReply,
    job_choices,
    laravel_lines,
    run_summary,
    runner_line,
)
from bot.storage.job_records import JobRun

MAX_JOBS = 20  # two blocks each: 41 blocks with the header, under Slack's 50
EMOJI = {
    "ok": ":white_check_mark:",
    "failed": ":x:",
    "missed": ":warning:",
    "running": ":hourglass_flowing_sand:",
    "interrupted": ":warning:",
    "skipped": ":fast_forward:",
}


def job_date(epoch: float, tz: str, seconds: bool = False) -> str:
    fmt = "{date_short_pretty} {time_secs}" if seconds else "{date_short_pretty} {time}"
    return f"<!date^{int(epoch)}^{fmt}|{cron.local_time(epoch, tz, seconds)}>"


def run_line(run: JobRun, tz: str) -> str:
    who = "schedule" if run.trigger == "schedule" else mention(run.by.split(" via ")[0])
    when = job_date(run.started, tz, True)
    number = f"#{run.id} · " if run.id else ""
    return f"{EMOJI.get(run.status, '')} {escape(run_summary(run))} · {when} · {number}{who}"


def jobs_blocks(reply: JobsReply, ctx: RenderContext) -> list[Block]:
    mark = "" if reply.runner.live else ":warning: "
    blocks: list[Block] = [context(mark + escape(runner_line(reply.runner)).lstrip("! "))]
    if not reply.jobs and not reply.laravel:
        return blocks + [section("No jobs visible in this channel.", "jobs_none")] + _errors(reply)
    blocks += _jobs(reply)
    return blocks + _laravel(reply) + _errors(reply)


def _laravel(reply: JobsReply) -> list[Block]:
    """The [[job_sources]] tasks: one section for all (Slack allows 50 blocks a message)."""
    if not reply.laravel:
        return []
    parts = []
    for lv in reply.laravel:
        head = f"*{escape(lv.task.command)}* {code(lv.task.expression)} · Laravel `{lv.source}`"
        body = laravel_lines(lv, partial(job_date, tz=lv.timezone), escape)
        mark = " :link:" if lv.also_job else ""
        parts.append(head + mark + "\n" + "\n".join(x.strip() for x in body))
    text = lines_within(parts, MAX_SECTION - 200, lambda n: f"…and {n} more Laravel tasks")
    runs = [
        Choice(f"Run {v.task.name}", quote("job", "run", v.task.name), "", f"Run {v.task.name}?")
        for v in reply.laravel
        if v.can_run
    ]
    return [section(text, "laravel")] + action_blocks(runs[:10], block_prefix="laravel_act")


def _errors(reply: JobsReply) -> list[Block]:
    if not reply.laravel_errors:
        return []
    return [context(":warning: job source " + escape("; ".join(reply.laravel_errors)))]


def _jobs(reply: JobsReply) -> list[Block]:
    blocks: list[Block] = []
    for i, view in enumerate(reply.jobs[:MAX_JOBS]):
        job, secs = view.job, cron.has_seconds(view.job.schedule)
        lines = [
            f"*{escape(job.name)}* {code(job.schedule)} — {escape(view.description)} "
            f"({escape(job.timezone)})"
        ]
        if job.description:
            lines.append(f"_{escape(job.description)}_")
        nxt = ", ".join(job_date(t, job.timezone, secs) for t in view.next_runs)
        lines.append(f"Next: {nxt or '-'}")
        last = view.last_run
        lines.append("Last: " + (run_line(last, job.timezone) if last else "never ran"))
        if view.skipped:
            lines.append(f"Overlapping starts skipped so far: {view.skipped}")
        blocks.append(section("\n".join(lines), f"job_{i}"))
        buttons = [
            button(c, f"job_{i}_{j}", "Run now" if c.command.startswith("job run") else "History")
            for j, c in enumerate(job_choices(job.name, view.can_run))
        ]
        blocks.append(ActionsBlock(block_id=f"job_{i}_act", elements=buttons))
    if len(reply.jobs) > MAX_JOBS:
        more = len(reply.jobs) - MAX_JOBS
        blocks.append(context(f"…and {more} more jobs: `supbot jobs` lists them all."))
    return blocks


def job_run_blocks(reply: JobRunReply, ctx: RenderContext) -> list[Block]:
    run = reply.run
    who = f" by {mention(reply.actor_mention)}" if reply.actor_mention else ""
    head = f"*{escape(run.job)}*: run #{run.id}{who}\n{run_line(run, reply.timezone)}"
    blocks: list[Block] = [section(head, "job_run")]
    if reply.output:
        blocks.append(section(preformatted(reply.output, MESSAGE_OUTPUT), "job_run_output"))
    return blocks + action_blocks(choices(reply), block_prefix="job_run_act")


def job_history_blocks(reply: JobHistoryReply, ctx: RenderContext) -> list[Block]:
    if not reply.runs:
        text = f"*{escape(reply.job)}*: no runs recorded yet."
        return [section(text, "history")] + action_blocks(choices(reply), block_prefix="hist_act")
    lines = [run_line(r, reply.timezone) for r in reply.runs]
    body = lines_within(lines, MAX_SECTION - 200, lambda n: f"…and {n} older runs")
    head = f"*{escape(reply.job)}*: last {len(reply.runs)} runs\n"
    blocks: list[Block] = [section(head + body, "history")]
    return blocks + action_blocks(choices(reply), block_prefix="hist_act")


def job_output_blocks(reply: JobOutputReply, ctx: RenderContext) -> list[Block]:
    head = f"*{escape(reply.run.job)}* run #{reply.run.id}\n{run_line(reply.run, reply.timezone)}"
    return [
        section(head, "output_head"),
        section(preformatted(reply.output or "(no output)", MESSAGE_OUTPUT), "output"),
        *action_blocks(choices(reply), block_prefix="output_act"),
    ]


def schedule_run_blocks(reply: ScheduleRunReply, ctx: RenderContext) -> list[Block]:
    if not reply.runs:
        return [section("No job is due now.", "schedule")]
    who = f" by {mention(reply.actor_mention)}" if reply.actor_mention else ""
    lines = [f"*{escape(r.job)}*: {run_line(r, reply.timezone)}" for r in reply.runs]
    body = lines_within(lines, MAX_SECTION - 200, lambda n: f"…and {n} more")
    blocks: list[Block] = [section(f"Due jobs started{who}:\n{body}", "schedule")]
    return blocks + action_blocks(choices(reply), block_prefix="schedule_act")


# What bot/wiring.py installs: the renderer of each reply type defined above.
BLOCK_RENDERERS: dict[type, Callable[..., list[Block]]] = {
    JobsReply: jobs_blocks,
    JobRunReply: job_run_blocks,
    JobHistoryReply: job_history_blocks,
    JobOutputReply: job_output_blocks,
    ScheduleRunReply: schedule_run_blocks,
}
