"""JobService without a runner: the asking process runs the job itself, under the same lock."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import errors
from bot.scheduler.jobs import JobBusy, UnknownJob
from tests.scheduler.conftest import (
    NEVER,
    admin,
    build,
    job,
    operator,
    pid_gone,
    read_pid,
    until,
    wait_loop,
)


def wait_for(flag: Path) -> str:
    """Python that waits until `flag` exists (one line: no statements after `;`)."""
    return "import os, time; " + wait_loop(flag)


def test_run_now_records_trigger_exit_code_duration_and_redacted_output(tmp_path: Path) -> None:
    code = 'print("step 1"); print("password=hunter2"); raise SystemExit(4)'
    svc = build(tmp_path, job("report", NEVER, code))
    access = operator(svc)
    run = svc.jobs.wait(svc.jobs.run_now(access, "report").id, 10)
    assert (run.status, run.exit_code, run.trigger, run.actor) == ("failed", 4, "slack", "U0OPER")
    assert run.duration is not None and run.ended is not None
    output = svc.jobs.run_output(access, run.id)
    assert "step 1" in output and "hunter2" not in output
    assert [r.id for r in svc.jobs.history(access, "report")] == [run.id]
    audit = [(e.actor, e.action, e.target) for e in svc.audit.since(60)]
    assert ("U0OPER", "job_run", "report") in audit


def test_timeout_kills_the_whole_process_group_including_grandchildren(tmp_path: Path) -> None:
    child = tmp_path / "child.pid"
    code = (
        "import subprocess, sys, time, os; "
        f'p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"]); '
        f'open("{child}", "w").write(str(p.pid)); '
        f'open("{tmp_path}/main.pid", "w").write(str(os.getpid())); time.sleep(60)'
    )
    svc = build(tmp_path, job("stuck", NEVER, code, timeout='"1s"'))
    run = svc.jobs.run_now(admin(), "stuck")
    grandchild, main = read_pid(child), read_pid(tmp_path / "main.pid")
    run = svc.jobs.wait(run.id, 15)
    assert run.status == "failed" and "timed out after 1s" in run.error
    until(lambda: pid_gone(grandchild) and pid_gone(main), 5)


def test_overlap_skip_refuses_a_second_start_while_the_first_runs(tmp_path: Path) -> None:
    flag = tmp_path / "go"
    code = wait_for(flag)
    svc = build(tmp_path, job("slow", NEVER, code))
    first = svc.jobs.run_now(admin(), "slow")
    with pytest.raises(JobBusy, match="still running"):
        svc.jobs.run_now(admin(), "slow")
    flag.write_text("")
    assert svc.jobs.wait(first.id, 10).status == "ok"
    second = svc.jobs.run_now(admin(), "slow")  # the lock is free again
    assert svc.jobs.wait(second.id, 10).status == "ok"
    assert svc.jobs.runs.skips("slow")[0] == 1


def test_overlap_allow_runs_both(tmp_path: Path) -> None:
    flag = tmp_path / "go"
    code = wait_for(flag)
    svc = build(tmp_path, job("para", NEVER, code, overlap='"allow"'))
    a, b = svc.jobs.run_now(admin(), "para"), svc.jobs.run_now(admin(), "para")
    assert a.id != b.id
    flag.write_text("")
    assert {svc.jobs.wait(a.id, 10).status, svc.jobs.wait(b.id, 10).status} == {"ok"}


def test_a_program_missing_on_disk_is_a_failed_run_with_a_clear_error(tmp_path: Path) -> None:
    extra = f'\n[[jobs]]\nname = "gone"\nschedule = "{NEVER}"\ncommand = ["no-such-program-x"]\n'
    svc = build(tmp_path, extra)
    run = svc.jobs.wait(svc.jobs.run_now(admin(), "gone").id, 5)
    assert run.status == "failed" and "`no-such-program-x` was not found" in run.error


def test_viewers_and_other_channels_cannot_run_or_see_jobs(tmp_path: Path) -> None:
    svc = build(tmp_path, job("report", NEVER, "pass"))
    viewer = operator(svc, "C0OPS", "U0SOMEONE")
    with pytest.raises(errors.Forbidden):
        svc.jobs.run_now(viewer, "report")
    assert [v.job.name for v in svc.jobs.list_jobs(viewer)] == ["report"]
    web = operator(svc, "C0WEB", "U0WEBOP")
    assert svc.jobs.list_jobs(web) == []
    with pytest.raises(UnknownJob):
        svc.jobs.history(web, "report")
    with pytest.raises(UnknownJob, match="Jobs here: `report`"):
        svc.jobs.run_now(admin(), "reprot")
    refused = [e for e in svc.audit.since(60) if e.outcome == "refused"]
    assert refused and refused[0].actor == "U0SOMEONE"


def test_failures_are_queued_once_in_the_alerts_outbox_with_a_run_again_button(
    tmp_path: Path,
) -> None:
    import json

    from sqlalchemy import select

    from bot.storage.tables import alert_outbox

    jobs = job("flaky", NEVER, 'print("db down"); raise SystemExit(1)')
    jobs += job("quiet", NEVER, "raise SystemExit(1)", notify='"never"')
    jobs += job("fine", NEVER, "pass")
    svc = build(tmp_path, jobs + '\n[alerts]\nchannel = "C0ALERTS"\n')
    for name in ("flaky", "quiet", "fine"):
        svc.jobs.wait(svc.jobs.run_now(admin(), name).id, 10)
    with svc.store.connect() as db:
        rows = db.execute(select(alert_outbox).where(alert_outbox.c.kind == "job")).mappings().all()
    assert [(r["channel"], r["ref"]) for r in rows] == [
        ("C0ALERTS", svc.jobs.history(admin(), "flaky")[0].id)
    ]
    payload = json.loads(rows[0]["payload"])
    raw = json.dumps(payload["blocks"])
    assert "db down" in raw and '"value": "job run flaky"' in raw
    assert svc.jobs.runs.pending_notifications() == []


def test_a_schedule_run_refused_in_slack_is_audited_once(tmp_path: Path) -> None:
    svc = build(tmp_path, job("report", NEVER, "pass"))
    reply = svc.dispatcher.run_text(operator(svc, "C0OPS", "U0SOMEONE"), "schedule run")
    assert "may not schedule_run" in getattr(reply, "text", "")
    refused = [(e.actor, e.action, e.outcome) for e in svc.audit.since(60)]
    assert refused == [("U0SOMEONE", "schedule_run", "refused")]
