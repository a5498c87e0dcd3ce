"""The long-running `supbot scheduler` as a real subprocess, on real jobs and shared state."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest

from bot.scheduler.jobs import JobBusy
from bot.storage.job_records import JobRun
from tests.conftest import storage_settings
from tests.scheduler.conftest import (
    NEVER,
    admin,
    build,
    job,
    pid_gone,
    read_pid,
    until,
    wait_loop,
)

EVERY_SECOND = "* * * * * *"


def finished(runs: list[JobRun]) -> list[JobRun]:
    return [r for r in runs if r.finished]


def test_runner_runs_a_seconds_schedule_and_skips_overlapping_starts(
    tmp_path: Path, runner_factory
) -> None:
    svc = build(tmp_path, job("tick", EVERY_SECOND, "import time; time.sleep(1.5)"))
    runner = runner_factory().start(svc)
    until(lambda: len(finished(svc.jobs.history_of("tick"))) >= 2, 15)
    assert runner.stop() == 0
    runs = sorted(svc.jobs.history_of("tick"), key=lambda r: r.started)
    assert {r.trigger for r in runs} == {"schedule"} and all(r.scheduled for r in runs)
    for before, after in zip(runs, runs[1:], strict=False):
        assert before.ended is not None and after.started >= before.ended  # never two at once
    assert svc.jobs.runs.skips("tick")[0] >= 1


def test_run_now_is_started_by_the_live_runner(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest, runner_factory
) -> None:
    out = tmp_path / "parent.pid"
    code = f'import os; open("{out}", "w").write(str(os.getppid()))'
    svc = build(tmp_path, job("who", NEVER, code), storage_settings(engine, tmp_path, request))
    runner = runner_factory().start(svc)
    run = svc.jobs.wait(svc.jobs.run_now(admin(), "who").id, 10)
    assert run.status == "ok" and run.trigger == "cli"
    assert read_pid(out) == runner.pid


def test_missed_runs_while_the_runner_was_down_are_recorded_not_run_late(
    tmp_path: Path, runner_factory
) -> None:
    svc = build(tmp_path, job("beat", EVERY_SECOND, "pass", grace='"1s"'))
    first = runner_factory().start(svc)
    until(lambda: finished(svc.jobs.history_of("beat")), 10)
    assert first.stop() == 0
    down = time.time()
    until(lambda: time.time() > down + 4, 6)  # the outage: 4 scheduled seconds pass
    runner_factory().start(svc)
    until(lambda: any(r.status == "missed" for r in svc.jobs.history_of("beat", 50)), 10)
    restarted = time.time()
    until(lambda: any(r.started > restarted for r in svc.jobs.history_of("beat", 50)), 10)
    runs = svc.jobs.history_of("beat", 100)
    missed = [r for r in runs if r.status == "missed"]
    assert len(missed) == 1 and "scheduled runs" in missed[0].error
    assert missed[0].scheduled is not None and missed[0].scheduled > down - 1
    ran = [r.scheduled for r in runs if r.status != "missed" and r.scheduled]
    assert len(ran) == len(set(ran))  # no slot ran twice
    late = [s for s in ran if down + 1 < s < restarted - 2]
    assert late == []  # nothing from the outage was run late


def test_runner_killed_mid_job_keeps_the_lock_while_the_job_lives_then_interrupted(
    tmp_path: Path, runner_factory
) -> None:
    flag, pid_file = tmp_path / "go", tmp_path / "job.pid"
    code = f'import os, time; print("working", flush=True); open("{pid_file}", "w").write(str(os.getpid())); '
    svc = build(tmp_path, job("long", NEVER, code + wait_loop(flag)))
    runner = runner_factory().start(svc)
    run = svc.jobs.run_now(admin(), "long")
    job_pid = read_pid(pid_file)
    runner.stop(signal.SIGKILL)
    until(lambda: not svc.jobs.runner_status().live, 5)
    with pytest.raises(JobBusy, match="still running"):
        svc.jobs.run_now(admin(), "long")  # the runner is gone but its job is not
    assert svc.jobs.history(admin(), "long")[0].status == "running"
    flag.write_text("")
    until(lambda: pid_gone(job_pid), 5)

    def last_status() -> str:  # as `/sup job history` shows it: reconciled, then read
        svc.jobs.reconcile_jobs()
        return svc.jobs.history(admin(), "long")[0].status

    until(lambda: last_status() == "interrupted", 5)
    assert svc.jobs.get_run(admin(), run.id).status == "interrupted"
    assert svc.jobs.run_output(admin(), run.id) == "working"  # what it wrote is kept
    again = svc.jobs.wait(svc.jobs.run_now(admin(), "long").id, 10)
    assert again.status == "ok"  # the lock is free again


def test_sigterm_lets_running_jobs_finish_within_grace_then_kills_the_rest(
    tmp_path: Path, runner_factory
) -> None:
    pid_file = tmp_path / "slow.pid"
    slow = f'import os, time; open("{pid_file}", "w").write(str(os.getpid())); time.sleep(60)'
    jobs = job("quick", NEVER, "import time; time.sleep(1)") + job("slow", NEVER, slow)
    svc = build(tmp_path, jobs)
    runner = runner_factory(stop_grace="3s").start(svc)
    quick, slow_run = svc.jobs.run_now(admin(), "quick"), svc.jobs.run_now(admin(), "slow")
    slow_pid = read_pid(pid_file)
    assert runner.stop(signal.SIGTERM, wait=20) == 0
    assert svc.jobs.get_run(admin(), quick.id).status == "ok"
    killed = svc.jobs.get_run(admin(), slow_run.id)
    assert killed.status == "interrupted" and "grace period" in killed.error
    assert pid_gone(slow_pid)
