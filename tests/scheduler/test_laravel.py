"""[[job_sources]]: Laravel's schedule:list (JSON and the text of 8.x–12.28) in `/sup jobs`.

The listings under tests/scheduler/laravel/ are reconstructed from Laravel's
ScheduleListCommand and its integration tests (Carbon::setTestNow('2023-01-01'), UTC).
"""

from __future__ import annotations

import json
import os
import time
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.errors import ExitStatus
from bot.render.text import render_text
from bot.scheduler import cron
from bot.scheduler.laravel import parse_listing
from tests.scheduler.conftest import PY, admin, build, operator

HERE = Path(__file__).with_name("laravel")
NOW = datetime(2023, 1, 1, tzinfo=UTC).timestamp()  # the listings' "now"
ARTISAN = HERE / "fake_artisan.py"


def source(extra: str = "", flags: str = "'--json'") -> str:
    return f"""
[[job_sources]]
name = "shop"
command = ['{PY}', '{ARTISAN}', 'schedule:list', {flags}]
nodes = ["local"]
{extra}
"""


def use(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    monkeypatch.setenv("FAKE_ARTISAN_LISTING", name)


@pytest.mark.parametrize("name", ["v8_table.txt", "v11_verbose.txt", "v12_json.json"])
def test_laravel_next_due_agrees_with_croniter_for_every_dated_listing(name: str) -> None:
    tasks = parse_listing((HERE / name).read_text(encoding="utf-8"))
    assert {t.expression for t in tasks} >= {"0 0 1 1-12/3 *", "0 14,18 * * *", "* * * * *"}
    for task in tasks:
        if task.repeat_seconds is None:
            assert task.next_due == cron.next_runs(task.expression, "UTC", NOW, 1)[0], task


def test_text_listing_keeps_commands_descriptions_mutex_and_repeats() -> None:
    plain = parse_listing((HERE / "v10_lines.txt").read_text(encoding="utf-8"))
    assert [t.command for t in plain][3:] == [
        "App\\Jobs\\PruneStaleTokens",
        "php artisan inspire",
        "php artisan inspire",
        "Closure at: routes/console.php:19",
    ]
    assert plain[0].next_due is None and plain[0].next_due_text == "3 months from now"
    verbose = parse_listing((HERE / "v11_verbose.txt").read_text(encoding="utf-8"))
    by_name = {t.name: t for t in verbose}
    wise = [t for t in verbose if t.expression == "0 14,18 * * *"]
    assert [t.description for t in wise] == ["Say something wise"]
    assert by_name["queue:health"].repeat_seconds == 10
    assert by_name["backup:run"].has_mutex
    assert by_name["foobar a='b'"].command.endswith("foobar a='b'")
    assert not parse_listing("\n   INFO  No scheduled tasks have been defined.\n")


@pytest.mark.parametrize("name", ["v12_json.json", "v11_verbose.txt", "v8_table.txt"])
def test_sup_jobs_shows_laravel_tasks_with_next_runs_in_the_apps_timezone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    use(monkeypatch, name)
    svc = build(tmp_path, source('timezone = "UTC"'))
    text = render_text(svc.dispatcher.run_text(operator(svc), "jobs"))
    assert "[Laravel: shop]" in text, text
    assert "`0 14,18 * * *`" in text and "At 02:00 PM and 06:00 PM (UTC)" in text
    assert "job source" not in text and "Laravel says" not in text  # no error, no disagreement
    shown = [line for line in text.splitlines() if line.startswith("  next: ")]
    assert any(
        cron.local_time(t, "UTC") in " ".join(shown)
        for t in cron.next_runs("0 14,18 * * *", "UTC", time.time(), 1)
    )
    # next runs by croniter from now, in the source's timezone
    views = svc.laravel.views(operator(svc), NOW)
    inspire = next(v for v in views if v.task.expression == "0 14,18 * * *")
    assert [cron.local_time(t, "UTC") for t in inspire.next_runs] == [
        "2023-01-01 14:00 UTC",
        "2023-01-01 18:00 UTC",
        "2023-01-02 14:00 UTC",
    ]
    # Laravel's own next due (printed at 2023-01-01 00:00) agrees with croniter's
    dated = svc.laravel.view(svc.settings.job_sources[0], inspire.task, NOW, NOW, operator(svc))
    assert dated.agrees is True


def test_a_wrong_timezone_shows_laravels_next_due_disagreeing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, "v8_table.txt")
    svc = build(tmp_path, source('timezone = "Asia/Tokyo"'))
    src = svc.settings.job_sources[0]
    task = next(
        t for t in parse_listing((HERE / "v8_table.txt").read_text()) if t.name == "inspire"
    )
    view = svc.laravel.view(src, task, NOW, NOW, operator(svc))
    assert view.agrees is False
    tokyo = datetime.fromtimestamp(view.next_runs[0], ZoneInfo("Asia/Tokyo"))
    assert (tokyo.hour, tokyo.minute) == (14, 0)


def test_json_falls_back_to_text_on_laravel_before_12_29_and_marks_supbot_jobs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, "v10_lines.txt")
    job = "\n[[jobs]]\nname = \"wisdom\"\nschedule = \"0 9 * * *\"\ncommand = ['php', 'artisan', 'inspire']\n"
    svc = build(tmp_path, source() + job)
    text = render_text(svc.dispatcher.run_text(operator(svc), "jobs"))
    assert "Closure at: routes/console.php:19  `* * * * *`" in text, text
    assert "also run by supbot as job `wisdom`" in text
    assert "[also a supbot job]" in text


def test_a_broken_source_is_reported_with_the_list(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, "missing.txt")
    svc = build(tmp_path, source(flags="'-v'"))
    text = render_text(svc.dispatcher.run_text(operator(svc), "jobs"))
    assert "! job source shop:" in text and "failed" in text


def test_schedule_run_at_node_and_job_run_of_a_laravel_task_show_their_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    use(monkeypatch, "v12_json.json")
    svc = build(tmp_path, source())
    out = render_text(svc.dispatcher.run_text(operator(svc), "schedule run @local"))
    assert "schedule:run" in out and "Running ['artisan' foobar a='b']" in out
    assert "exit code 0 (ok)" in out
    out = render_text(svc.dispatcher.run_text(operator(svc), "job run inspire"))
    assert "schedule:test --name=inspire" in out and "Running [artisan inspire]" in out
    bad = svc.dispatcher.run_text(operator(svc), "schedule run @web")
    assert "No job source runs on `@web`" in render_text(bad)
    closure = render_text(
        svc.dispatcher.run_text(operator(svc), "job run 'Closure at: routes/console.php:19'")
    )
    assert "closure" in closure.lower() and "schedule run" in closure
    viewer = svc.authorizer.for_channel("U0NOBODY", "C0OPS", "slash")
    refused = render_text(svc.dispatcher.run_text(viewer, "schedule run @local"))
    assert "schedule_run" in refused or "operator" in refused
    assert os.environ["FAKE_ARTISAN_LISTING"] == "v12_json.json"
    assert admin()  # the CLI's access builds too


def test_cli_jobs_shows_the_laravel_tasks_as_text_and_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, "v12_json.json")
    job = "\n[[jobs]]\nname = \"wisdom\"\nschedule = \"0 9 * * *\"\ncommand = ['php', 'artisan', 'inspire']\n"
    build(tmp_path, source('timezone = "Asia/Tokyo"') + job)
    config = str(tmp_path / "supbot.toml")
    assert main(["--config", config, "jobs"]) == 0
    text = capsys.readouterr().out
    assert "php artisan inspire  `0 14,18 * * *`  [Laravel: shop]  [also a supbot job]" in text
    assert "At 02:00 PM and 06:00 PM (Asia/Tokyo)" in text
    assert main(["--config", config, "jobs", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [j["job"]["name"] for j in data["jobs"]] == ["wisdom"]
    assert data["laravel_errors"] == []
    inspire = next(t for t in data["laravel"] if t["name"] == "inspire")
    assert inspire["expression"] == "0 14,18 * * *" and inspire["source"] == "shop"
    assert inspire["description"] == "Say something wise"
    assert inspire["schedule_description"] == "At 02:00 PM and 06:00 PM"
    assert inspire["also_job"] == "wisdom" and inspire["can_run"] is True
    # Laravel's due date (14:00 UTC), in the source's zone; a canned 2023 listing is too old
    # to compare with croniter's runs from now (test_a_wrong_timezone… covers False)
    assert inspire["laravel_next_due"] == "2023-01-01T23:00:00+09:00"
    assert inspire["laravel_agrees"] is None
    first = datetime.fromisoformat(inspire["next_runs"][0])
    tokyo = timezone(timedelta(hours=9))
    today = datetime.now(tokyo).replace(minute=0, second=0, microsecond=0)
    due = [today.replace(hour=h) + timedelta(days=d) for d in (0, 1) for h in (14, 18)]
    assert first == next(t for t in due if t.timestamp() > time.time())  # whatever the hour
    assert first.utcoffset() == timedelta(hours=9)
    assert len(inspire["next_runs"]) == 3


def test_cli_schedule_run_at_node_and_job_run_of_a_task_stream_output_and_exit_codes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    use(monkeypatch, "v12_json.json")
    svc = build(tmp_path, source())
    config = str(tmp_path / "supbot.toml")
    assert main(["--config", config, "schedule", "run", "@local"]) == 0
    out = capsys.readouterr().out
    assert "Running ['artisan' foobar a='b']" in out and "schedule:run" in out
    assert "exit code 0 — ok" in out
    assert main(["--config", config, "job", "run", "inspire", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["ok"] is True and data["exit_code"] == 0
    assert "schedule:test --name=inspire" in data["shown_as"]
    assert "Running [artisan inspire]" in data["output"]
    # Laravel's failure: its exit code shown, the CLI exits ERROR (ExitStatus conventions)
    monkeypatch.setenv("FAKE_ARTISAN_EXIT", "5")
    assert main(["--config", config, "schedule", "run", "local"]) == ExitStatus.ERROR
    assert "exit code 5 — failed" in capsys.readouterr().out
    monkeypatch.delenv("FAKE_ARTISAN_EXIT")
    assert main(["--config", config, "schedule", "run", "@web"]) == ExitStatus.USAGE
    assert "No job source runs on `@web`" in capsys.readouterr().err
    assert main(["--config", config, "job", "run", "inspyre"]) == ExitStatus.USAGE
    assert "Did you mean `inspire`?" in capsys.readouterr().err
    actions = [(e.action, e.target, e.outcome) for e in svc.audit.since()]
    assert ("schedule_run", "schedule:run", "ok") in actions
    assert ("schedule_run", "schedule:run", "failed") in actions
    assert ("job_run", "inspire", "ok") in actions
    assert all(e.actor.startswith("cli:") for e in svc.audit.since())
