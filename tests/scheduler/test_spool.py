"""The output spool of a command or job stays within `[scheduler] max_output` on disk, keeps
the tail, and says how many bytes it dropped."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.config_reader import ConfigError
from tests.scheduler.conftest import admin, build, command, job, settings_for

CAP = '\n[scheduler]\nmax_output = "64KiB"\n'
# 8 MB in one burst, then a pause (the supervisor catches up), then the line that matters.
CHATTY = (
    'import sys, time; [sys.stdout.write("x" * 99 + "\\n") for _ in range(80000)]; '
    'sys.stdout.flush(); time.sleep(1.5); print("the end")'
)
DROPPED = re.compile(r"… ([\d,]+) bytes dropped \(output over \[scheduler\] max_output\) …")


def on_disk(runs: Path) -> int:
    return sum(p.stat().st_blocks * 512 for p in runs.glob("*.log"))


def test_a_chatty_command_keeps_the_tail_within_the_cap_and_counts_what_it_dropped(
    tmp_path: Path,
) -> None:
    svc = build(tmp_path, command("chatty", CHATTY) + CAP)
    runs = svc.settings.storage.dir / "runs"
    seen: list[int] = []
    result = svc.commands.run(admin(), "chatty", [], lambda _: seen.append(on_disk(runs)), 0.2)
    assert result.ok, result.error
    first, *rest = result.output.splitlines()
    match = DROPPED.fullmatch(first)
    assert match, first
    assert 7_800_000 < int(match.group(1).replace(",", "")) < 8_000_000
    assert rest[-1] == "the end" and rest[-2] == "x" * 99
    # While it paused, its spool held about the cap (64 KiB + a quarter/64 KiB of slack).
    assert seen and seen[-1] <= 192 * 1024, seen


def test_a_chatty_job_keeps_only_its_tail_too(tmp_path: Path) -> None:
    svc = build(tmp_path, job("chatty", "0 3 * * *", CHATTY) + CAP)
    run = svc.jobs.wait(svc.jobs.run_now(admin(), "chatty").id, 60)
    assert run.status == "ok"
    output = svc.jobs.run_output(admin(), run.id)
    assert DROPPED.match(output) and output.endswith("the end")


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ('"lots"', "expected a size like '1MiB'"),
        ('"1KiB"', "must be at least 64KiB"),
        ("true", "expected a size like '1MiB'"),
    ],
)
def test_max_output_must_be_a_size_of_at_least_64kib(
    tmp_path: Path, value: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape(f"scheduler.max_output: {problem}")):
        settings_for(tmp_path, f"\n[scheduler]\nmax_output = {value}\n")


def test_max_output_reads_binary_and_decimal_units(tmp_path: Path) -> None:
    assert settings_for(tmp_path, "").max_output == 1024 * 1024
    assert settings_for(tmp_path, '\n[scheduler]\nmax_output = "2MiB"\n').max_output == 2 << 20
    assert settings_for(tmp_path, '\n[scheduler]\nmax_output = "5MB"\n').max_output == 5_000_000
