"""Laravel's schedule ([[job_sources]]) through the API: the fake artisan, real uvicorn."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest

from bot.services import Services
from tests.api.conftest import TOKEN_ENV, TOKENS_TOML, Api, serve, stop
from tests.conftest import make_settings
from tests.scheduler.conftest import BASE
from tests.scheduler.test_laravel import source, use


@pytest.fixture
def laravel_api(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    use(monkeypatch, "v12_json.json")
    job = "\n[[jobs]]\nname = \"wisdom\"\nschedule = \"0 9 * * *\"\ncommand = ['php', 'artisan', 'inspire']\n"
    toml = BASE + TOKENS_TOML + source('timezone = "UTC"') + job
    services = Services.build(make_settings(tmp_path, toml, TOKEN_ENV))
    served = serve(services)
    yield Api(served.base, services)
    stop(served)
    services.close()


def test_jobs_lists_the_laravel_tasks_with_iso_next_runs(laravel_api: Api) -> None:
    body = laravel_api.get("/api/v1/jobs", token="viewer").json()
    assert [j["name"] for j in body["jobs"]] == ["wisdom"] and body["laravel_errors"] == []
    inspire = next(t for t in body["laravel"] if t["name"] == "inspire")
    assert inspire["expression"] == "0 14,18 * * *" and inspire["source"] == "shop"
    assert inspire["schedule_description"] == "At 02:00 PM and 06:00 PM"
    assert inspire["also_job"] == "wisdom" and inspire["can_run"] is False  # a viewer
    assert inspire["laravel_next_due"] == "2023-01-01T14:00:00+00:00"
    assert {datetime.fromisoformat(t).hour for t in inspire["next_runs"]} <= {14, 18}
    assert all(t.endswith("+00:00") for t in inspire["next_runs"])
    # a token whose job globs do not cover the tasks does not see them
    assert laravel_api.get("/api/v1/jobs", token="deploy").json()["laravel"] == []


def test_schedule_run_at_a_node_and_a_task_run_are_audited_under_the_token(
    laravel_api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    r = laravel_api.post("/api/v1/schedule/run/@local")
    assert r.status_code == 200, r.text
    assert r.json()["ok"] and "Running ['artisan' foobar a='b']" in r.json()["output"]
    assert "schedule:run" in r.json()["shown"]
    r = laravel_api.post("/api/v1/laravel/tasks/inspire/run")
    assert r.status_code == 200 and "Running [artisan inspire]" in r.json()["output"]
    monkeypatch.setenv("FAKE_ARTISAN_EXIT", "5")
    r = laravel_api.post("/api/v1/schedule/run/local")
    assert r.status_code == 409 and r.json()["exit_code"] == 5, r.text
    assert r.json()["error"] == "command_failed" and "exit code 5" in r.json()["detail"]
    audited = [(e.action, e.target, e.outcome) for e in laravel_api.audit("api:admin")]
    assert audited.count(("schedule_run", "schedule:run", "ok")) == 1
    assert ("schedule_run", "schedule:run", "failed") in audited
    assert ("job_run", "inspire", "ok") in audited


def test_laravel_runs_refuse_viewers_and_unknown_names(laravel_api: Api) -> None:
    assert laravel_api.post("/api/v1/schedule/run/local", token="viewer").status_code == 403
    r = laravel_api.post("/api/v1/laravel/tasks/inspire/run", token="viewer")
    assert r.status_code == 403, r.text
    r = laravel_api.post("/api/v1/schedule/run/web")
    assert r.status_code == 404 and "No job source runs on `@web`" in r.json()["detail"]
    r = laravel_api.post("/api/v1/laravel/tasks/inspyre/run")
    assert r.status_code == 404 and "Did you mean `inspire`?" in r.json()["detail"]
    r = laravel_api.post("/api/v1/laravel/tasks/wisdom/run")  # a [[jobs]] entry, not a task
    assert r.status_code == 404 and "/api/v1/jobs" in r.json()["detail"]
