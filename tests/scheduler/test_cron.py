"""Cron math in the job's timezone, across DST changes, with and without the seconds field."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.config_reader import ConfigError
from bot.scheduler.cron import current_slot, describe, local_time, next_runs, slots_between
from tests.scheduler.conftest import settings_for

PARIS, NEW_YORK = "Europe/Paris", "America/New_York"


def at(tz: str, *parts: int) -> float:
    return datetime(*parts, tzinfo=ZoneInfo(tz)).timestamp()  # type: ignore[misc]


def shown(epochs: list[float], tz: str, seconds: bool = False) -> list[str]:
    return [local_time(e, tz, seconds) for e in epochs]


def test_paris_spring_forward_runs_a_missing_time_once_right_after_the_gap() -> None:
    runs = next_runs("30 2 * * *", PARIS, at(PARIS, 2024, 3, 30, 12), 3)
    assert shown(runs, PARIS) == [
        "2024-03-31 03:00 CEST",
        "2024-04-01 02:30 CEST",
        "2024-04-02 02:30 CEST",
    ]


def test_paris_fall_back_runs_a_fixed_time_once_not_twice() -> None:
    runs = next_runs("30 2 * * *", PARIS, at(PARIS, 2024, 10, 26, 12), 3)
    assert shown(runs, PARIS) == [
        "2024-10-27 02:30 CEST",
        "2024-10-28 02:30 CET",
        "2024-10-29 02:30 CET",
    ]


def test_an_hourly_schedule_runs_in_both_repeated_hours_at_fall_back() -> None:
    runs = next_runs("30 * * * *", PARIS, at(PARIS, 2024, 10, 27, 1), 4)
    assert shown(runs, PARIS) == [
        "2024-10-27 01:30 CEST",
        "2024-10-27 02:30 CEST",
        "2024-10-27 02:30 CET",
        "2024-10-27 03:30 CET",
    ]
    assert runs[2] - runs[1] == 3600


def test_new_york_spring_forward_and_fall_back() -> None:
    spring = next_runs("30 2 * * *", NEW_YORK, at(NEW_YORK, 2024, 3, 9, 12), 2)
    assert shown(spring, NEW_YORK) == ["2024-03-10 03:00 EDT", "2024-03-11 02:30 EDT"]
    fall = next_runs("30 1 * * *", NEW_YORK, at(NEW_YORK, 2024, 11, 2, 12), 2)
    assert shown(fall, NEW_YORK) == ["2024-11-03 01:30 EDT", "2024-11-04 01:30 EST"]


def test_seconds_field_is_last_and_keeps_real_time_spacing_across_dst() -> None:
    runs = next_runs("* * * * * */20", PARIS, at(PARIS, 2024, 3, 31, 1, 59, 30), 3)
    assert shown(runs, PARIS, True) == [
        "2024-03-31 01:59:40 CET",
        "2024-03-31 03:00:00 CEST",
        "2024-03-31 03:00:20 CEST",
    ]
    assert runs[1] - runs[0] == 20
    fixed = next_runs("30 2 * * * 15", PARIS, at(PARIS, 2024, 10, 26, 12), 2)
    assert shown(fixed, PARIS, True) == ["2024-10-27 02:30:15 CEST", "2024-10-28 02:30:15 CET"]


def test_slots_between_and_current_slot() -> None:
    start = at("UTC", 2024, 1, 1, 0, 0, 0)
    assert len(slots_between("* * * * * *", "UTC", start, start + 10)) == 10
    assert current_slot("0 3 * * *", "UTC", at("UTC", 2024, 1, 1, 3, 0, 40)) == at(
        "UTC", 2024, 1, 1, 3
    )
    assert current_slot("0 3 * * *", "UTC", at("UTC", 2024, 1, 1, 3, 1, 0) + 1) is None


def test_human_descriptions_read_the_seconds_field_from_the_end() -> None:
    assert describe("0 3 * * *") == "At 03:00 AM"
    assert describe("* * * * * */5") == "Every 5 seconds"
    assert describe("0 3 * * * 30") == "At 03:00:30 AM"


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ('schedule = "61 * * * *"', "jobs[0].schedule: invalid cron expression"),
        ('schedule = "* * * *"', "jobs[0].schedule: invalid cron expression"),
        ('schedule = "0 3 * * *"\ntimezone = "Mars/Olympus"', "jobs[0].timezone: unknown"),
    ],
)
def test_bad_cron_or_timezone_is_a_config_error_with_its_key(
    tmp_path: Path, keys: str, problem: str
) -> None:
    toml = f'\n[[jobs]]\nname = "x"\ncommand = ["true"]\n{keys}\n'
    with pytest.raises(ConfigError) as exc:
        settings_for(tmp_path, toml)
    assert any(p.startswith(problem) for p in exc.value.problems), exc.value.problems
