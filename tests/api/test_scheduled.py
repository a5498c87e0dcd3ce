"""Jobs and commands through the API: real subprocesses, audited under the token's name."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.conftest import wait_until


def _audited(api: Api, actor: str, action: str) -> list[tuple[str, str]]:
    return [(e.target, e.outcome) for e in api.audit(actor) if e.action == action]


def test_jobs_lists_what_the_token_may_see_with_next_runs(api: Api) -> None:
    jobs = api.get("/api/v1/jobs", token="deploy").json()["jobs"]
    assert [j["name"] for j in jobs] == ["nightly-backup", "nightly-broken"]
    backup = jobs[0]
    assert backup["schedule"] == "0 3 * * *"
    assert len(backup["next_runs"]) == 3
    assert backup["can_run"] is True
    viewer = api.get("/api/v1/jobs", token="viewer").json()["jobs"]
    assert [j["name"] for j in viewer] == ["nightly-backup", "nightly-broken", "report"]
    assert not any(j["can_run"] for j in viewer)


def test_run_job_and_wait_reports_the_finished_run(api: Api) -> None:
    r = api.post("/api/v1/jobs/nightly-backup/run", token="deploy", params={"wait": 30})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["finished"] is True
    assert body["run"]["status"] == "ok"
    assert body["run"]["exit_code"] == 0
    assert body["run"]["actor"] == "api:deploy"
    assert body["run"]["trigger"] == "api"
    assert ("nightly-backup", "ok") in _audited(api, "api:deploy", "job_run")
    runs = api.get("/api/v1/jobs/nightly-backup/runs", token="deploy").json()["runs"]
    assert body["run"]["id"] in [run["id"] for run in runs]


def test_run_job_without_wait_answers_202_and_the_run_shows_in_history(api: Api) -> None:
    r = api.post("/api/v1/jobs/nightly-backup/run", token="admin")
    assert r.status_code in (200, 202), r.text  # 200 only if it already ended
    run_id = r.json()["run"]["id"]

    def finished() -> bool:
        runs = api.get("/api/v1/jobs/nightly-backup/runs?limit=5").json()["runs"]
        return any(run["id"] == run_id and run["status"] == "ok" for run in runs)

    wait_until(finished, 20)


def test_failed_job_is_409_with_its_exit_code(api: Api) -> None:
    r = api.post("/api/v1/jobs/nightly-broken/run", token="deploy", params={"wait": 30})
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "job_failed"
    assert body["run"]["status"] == "failed"
    assert body["run"]["exit_code"] == 4
    assert "exit code 4" in body["detail"]


def test_job_outside_the_token_globs_is_403_and_audited(api: Api) -> None:
    r = api.post("/api/v1/jobs/report/run", token="deploy")
    assert r.status_code == 403
    assert "Token `deploy` may not job_run `report`" in r.json()["detail"]
    assert ("report", "refused") in _audited(api, "api:deploy", "job_run")
    assert api.get("/api/v1/jobs/report/runs", token="deploy").status_code == 403


def test_unknown_job_is_404_with_the_closest_name(api: Api) -> None:
    r = api.post("/api/v1/jobs/nightly-bakup/run", token="deploy")
    assert r.status_code == 404
    assert "nightly-backup" in r.json()["detail"]


def test_schedule_run_starts_only_what_is_due(api: Api) -> None:
    r = api.post("/api/v1/schedule/run", token="admin")
    assert r.status_code == 200, r.text
    assert r.json()["runs"] == []  # nothing in the test config is due at this minute
    assert api.post("/api/v1/schedule/run", token="viewer").status_code == 403


def test_commands_lists_what_the_token_may_run(api: Api) -> None:
    commands = api.get("/api/v1/commands", token="deploy").json()["commands"]
    assert [c["name"] for c in commands] == ["cache-clear", "cache-warm", "cache-fail"]
    assert commands[1]["args"] == "[a-z]+"
    assert all(c["can_run"] for c in commands)


def test_run_command_with_an_empty_body_runs_it_without_arguments(api: Api) -> None:
    r = api.post("/api/v1/commands/cache-clear/run", token="deploy")
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["exit_code"], body["ok"], body["args"]) == (0, True, [])
    assert body["output"].strip() == "cache cleared"
    assert body["duration"] >= 0
    assert ("cache-clear", "ok") in _audited(api, "api:deploy", "run")


def test_run_command_passes_checked_arguments_and_redacts_output(api: Api) -> None:
    r = api.post("/api/v1/commands/cache-warm/run", token="deploy", json={"args": ["users"]})
    assert r.status_code == 200, r.text
    output = r.json()["output"]
    assert "warming users" in output
    assert "sk_live_abcdefghijklmnop1234" not in output
    assert "api_key=" in output


def test_refused_arguments_and_bad_bodies_are_400_and_nothing_runs(api: Api) -> None:
    before = len(_audited(api, "api:deploy", "run"))
    cases = [
        {"json": {"args": ["users; rm -rf /"]}},
        {"json": {"args": ["Users"]}},
        {"json": {"args": "users"}},
        {"json": {"args": [1]}},
        {"json": {"argv": ["users"]}},
        {"json": ["users"]},
        {"data": "not json", "headers": {"Content-Type": "application/json"}},
    ]
    for kw in cases:
        r = api.post("/api/v1/commands/cache-warm/run", token="deploy", **kw)
        assert r.status_code == 400, (kw, r.text)
        assert r.json()["error"] == "bad_request"
    after = _audited(api, "api:deploy", "run")[before:]
    assert all(outcome == "refused" for _, outcome in after)  # the service refused, ran nothing
    r = api.post("/api/v1/commands/cache-clear/run", token="deploy", json={"args": ["x"]})
    assert r.status_code == 400
    assert "takes no arguments" in r.json()["detail"]


def test_failed_command_is_409_with_exit_code_and_output(api: Api) -> None:
    r = api.post("/api/v1/commands/cache-fail/run", token="deploy")
    assert r.status_code == 409
    body = r.json()
    assert (body["error"], body["exit_code"], body["ok"]) == ("command_failed", 2, False)
    assert "cannot reach redis" in body["output"]
    assert ("cache-fail", "failed") in _audited(api, "api:deploy", "run")


def test_command_outside_the_globs_or_with_too_low_a_role_is_403(api: Api) -> None:
    r = api.post("/api/v1/commands/migrate/run", token="deploy")
    assert r.status_code == 403
    assert "Token `deploy`" in r.json()["detail"]
    assert ("migrate", "refused") in _audited(api, "api:deploy", "run")
    assert api.post("/api/v1/commands/cache-clear/run", token="viewer").status_code == 403
    assert ("cache-clear", "refused") in _audited(api, "api:viewer", "run")
    assert api.post("/api/v1/commands/nosuch/run", token="admin").status_code == 404
