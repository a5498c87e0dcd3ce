"""`/sup jobs`, `job history`, `commands` and `run` as people see them: text and Block Kit."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.choices import choices
from bot.commands.render import CommandRunReply
from bot.commands.verbs import run_allowed_command
from bot.grammar import parse
from bot.render.blocks import render_blocks
from bot.render.text import render_text
from bot.scheduler.render import JobHistoryReply, JobOutputReply, JobsReply
from tests.scheduler.conftest import build, command, job, operator

JOBS = job(
    "nightly-backup",
    "0 3 * * *",
    'print("backup done")',
    timezone='"America/New_York"',
    description='"Nightly <backup> & rotate"',
) + job("cleanup", "*/15 * * * *", "raise SystemExit(2)")


def blocks_json(reply) -> list[dict]:  # type: ignore[no-untyped-def]
    return [b.to_dict() for b in render_blocks(reply)]  # to_dict() validates Slack's limits


def test_sup_jobs_shows_schedule_description_next_runs_last_run_and_buttons(
    tmp_path: Path,
) -> None:
    svc = build(tmp_path, JOBS)
    oper = operator(svc)
    svc.jobs.wait(svc.jobs.run_now(oper, "cleanup").id, 10)
    reply = svc.dispatcher.run_text(oper, "jobs")
    assert isinstance(reply, JobsReply)
    text = render_text(reply)
    assert "nightly-backup  `0 3 * * *`  At 03:00 AM (America/New_York)" in text
    assert text.count(" 03:00 E") == 3  # next 3 runs in the job's timezone (EST/EDT)
    assert "FAILED (exit 2)" in text and "scheduler: NOT running" in text
    blocks = blocks_json(reply)
    raw = json.dumps(blocks)
    assert raw.count("<!date^") >= 7  # 3 + 3 next runs, 1 last run
    assert "{date_short_pretty} {time}|" in raw and "Nightly &lt;backup&gt; &amp; rotate" in raw
    values = [e["value"] for b in blocks if b["type"] == "actions" for e in b["elements"]]
    assert values == [
        "job run nightly-backup",
        "job history nightly-backup",
        "job run cleanup",
        "job history cleanup",
    ]
    assert ":x: FAILED (exit 2)" in raw


def test_viewers_get_no_run_button_and_unbound_channels_see_no_jobs(tmp_path: Path) -> None:
    svc = build(tmp_path, JOBS)
    viewer = operator(svc, "C0OPS", "U0VIEWER")
    reply = svc.dispatcher.run_text(viewer, "jobs")
    assert [c.command for c in choices(reply)] == [
        "job history nightly-backup",
        "job history cleanup",
    ]
    web = svc.dispatcher.run_text(operator(svc, "C0WEB", "U0WEBOP"), "jobs")
    assert "No jobs visible" in render_text(web)
    assert blocks_json(web)


def test_job_run_history_and_output_through_the_dispatcher(tmp_path: Path) -> None:
    svc = build(tmp_path, JOBS)
    oper = operator(svc)
    ran = svc.dispatcher.run_text(oper, "job run nightly-backup")
    assert "backup done" in render_text(ran) and ran.public
    assert blocks_json(ran)
    history = svc.dispatcher.run_text(oper, "job history nightly-backup")
    assert isinstance(history, JobHistoryReply) and len(history.runs) == 1
    run_id = history.runs[0].id
    assert f"job history nightly-backup {run_id}" in [c.command for c in choices(history)]
    assert "<@U0OPER>" in json.dumps(blocks_json(history))
    output = svc.dispatcher.run_text(oper, f"job history nightly-backup {run_id}")
    assert isinstance(output, JobOutputReply) and output.output == "backup done"
    assert "backup done" in json.dumps(blocks_json(output))
    busy = svc.dispatcher.run_text(oper, "job run nosuch")
    assert "No job `nosuch`" in render_text(busy)


def test_schedule_run_starts_only_due_jobs(tmp_path: Path) -> None:
    later = (time.gmtime().tm_min + 30) % 60  # a schedule that cannot be due during the test
    jobs = job("later", f"{later} * * * *", "pass") + job("always", "* * * * *", 'print("due")')
    svc = build(tmp_path, jobs)
    reply = svc.dispatcher.run_text(operator(svc), "schedule run")
    assert [r.job for r in reply.runs] == ["always"]  # type: ignore[attr-defined]
    assert "always: #" in render_text(reply) and blocks_json(reply)
    again = svc.dispatcher.run_text(operator(svc), "schedule run")
    assert "already ran" in render_text(again)  # one slot runs once


def test_commands_list_and_run_with_progress_render_for_slack(tmp_path: Path) -> None:
    code = 'import time; print("a" * 4000, flush=True); time.sleep(0.8); print("done")'
    svc = build(tmp_path, command("big", code, description='"Prints a lot"'))
    oper = operator(svc)
    listed = svc.dispatcher.run_text(oper, "commands")
    assert "Prints a lot" in json.dumps(blocks_json(listed))
    assert [c.command for c in choices(listed)] == ["run big"]
    progress: list[CommandRunReply] = []
    final = run_allowed_command(svc.commands, oper, parse("run big"), progress.append, interval=0.2)
    assert progress and all(p.running for p in progress)
    assert blocks_json(progress[0]) and final.ok and final.too_long
    raw = json.dumps(blocks_json(final))
    assert "exit code 0" in raw and "Output shortened" in raw and "done" in raw
    assert [c.command for c in choices(final)] == ["run big"]
