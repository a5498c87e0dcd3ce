"""The process endpoints against a real supervisord, through real HTTP."""

from __future__ import annotations

from tests.api.conftest import Api
from tests.conftest import wait_until


def _state(api: Api, name: str) -> str:
    r = api.get(f"/api/v1/processes/{name}")
    assert r.status_code == 200, r.text
    return str(r.json()["process"]["state"])


def test_list_shows_every_process_with_totals(api: Api) -> None:
    r = api.get("/api/v1/processes")
    assert r.status_code == 200
    body = r.json()
    names = {p["display_name"] for p in body["processes"]}
    assert {"web", "worker:worker_00", "worker:worker_01", "broken", "idle"} <= names
    assert body["totals"]["total"] == len(body["processes"])
    assert body["nodes"] == [{"node": "local", "reachable": True, "error": None, "local": True}]


def test_list_pattern_selects_a_group(api: Api) -> None:
    r = api.get("/api/v1/processes", params={"pattern": "worker"})
    assert sorted(p["name"] for p in r.json()["processes"]) == ["worker_00", "worker_01"]


def test_list_shows_only_what_the_token_may_see(api: Api) -> None:
    r = api.get("/api/v1/processes", token="webview")
    assert [p["display_name"] for p in r.json()["processes"]] == ["web"]


def test_one_process_has_details_and_a_log_preview(api: Api) -> None:
    r = api.get("/api/v1/processes/web", params={})
    body = r.json()
    assert body["process"]["state"] == "RUNNING"
    assert body["process"]["pid"] > 0
    assert any("web line" in line for line in body["log_preview"])


def test_unknown_process_is_404_with_the_closest_names_the_token_may_see(api: Api) -> None:
    r = api.get("/api/v1/processes/wbe", token="webview")
    assert r.status_code == 404
    body = r.json()
    assert body["error"] == "not_found"
    assert body["suggestions"] == ["web"]
    assert "wbe" in body["detail"]


def test_group_name_for_one_process_is_ambiguous(api: Api) -> None:
    r = api.get("/api/v1/processes/worker")
    assert r.status_code == 400
    assert r.json()["error"] == "ambiguous"
    assert set(r.json()["matches"]) == {"worker:worker_00", "worker:worker_01"}


def test_logs_are_the_last_lines_of_the_chosen_stream(api: Api) -> None:
    r = api.get("/api/v1/processes/web/logs", params={"lines": 3, "stream": "stderr"})
    body = r.json()
    assert r.status_code == 200
    assert body["stream"] == "stderr"
    assert len(body["lines"]) == 3
    assert all(line.startswith("web err") for line in body["lines"])


def test_logs_are_redacted(api: Api) -> None:
    wait_until(lambda: api.get("/api/v1/processes/leaky/logs").json()["lines"], 5)
    lines = api.get("/api/v1/processes/leaky/logs").json()["lines"]
    assert any("DB_PASSWORD=" in line for line in lines)
    assert not any("hunter2secret" in line for line in lines)


def test_bad_log_parameters_are_400_with_a_sentence(api: Api) -> None:
    for params in ({"lines": "many"}, {"lines": 0}, {"lines": 5000}, {"stream": "both"}):
        r = api.get("/api/v1/processes/web/logs", params=params)
        assert r.status_code == 400, params
        assert r.json()["error"] == "bad_request"
        assert r.json()["detail"].endswith(".")


def test_start_and_stop_act_and_report_each_outcome(api: Api) -> None:
    r = api.post("/api/v1/processes/idle/start", token="deploy")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True
    assert body["actor"] == "api:deploy"
    assert [(o["process"], o["state"]) for o in body["outcomes"]] == [("idle", "RUNNING")]
    assert _state(api, "idle") == "RUNNING"

    r = api.post("/api/v1/processes/idle/stop", token="deploy")
    assert r.status_code == 200
    assert r.json()["outcomes"][0]["state"] == "STOPPED"
    assert _state(api, "idle") == "STOPPED"
    actions = [(e.action, e.target, e.outcome) for e in api.audit("api:deploy")]
    assert ("start", "idle@local", "ok") in actions
    assert ("stop", "idle@local", "ok") in actions


def test_restart_of_a_glob_acts_on_every_match(api: Api) -> None:
    before = {
        p["name"]: p["pid"] for p in api.get("/api/v1/processes?pattern=worker").json()["processes"]
    }
    r = api.post("/api/v1/processes/worker:*/restart", token="workerop")
    assert r.status_code == 200, r.text
    outcomes = r.json()["outcomes"]
    assert sorted(o["process"] for o in outcomes) == ["worker:worker_00", "worker:worker_01"]
    assert all(o["ok"] and o["state"] == "RUNNING" for o in outcomes)
    after = {o["process"].split(":")[1]: o["pid"] for o in outcomes}
    assert all(after[name] != pid for name, pid in before.items())


def test_failed_start_is_409_with_the_outcome_and_log(api: Api) -> None:
    r = api.post("/api/v1/processes/broken/start", token="deploy")
    assert r.status_code == 409
    body = r.json()
    assert body["error"] == "action_failed"
    assert "broken" in body["detail"]
    assert body["ok"] is False
    assert "boom: cannot connect to db" in body["outcomes"][0]["log_tail"]
    assert ("start", "broken@local", "failed") in [
        (e.action, e.target, e.outcome) for e in api.audit("api:deploy")
    ]


def test_unknown_action_is_404_and_a_get_on_an_action_is_405(api: Api) -> None:
    assert api.post("/api/v1/processes/web/explode").json()["error"] == "not_found"
    r = api.get("/api/v1/processes/web/start")
    assert r.status_code == 405
    assert r.json()["error"] == "method_not_allowed"
    assert api.get("/api/v1/nothing").status_code == 404


def test_logs_grep_returns_the_last_matches_and_how_far_it_searched(api: Api) -> None:
    r = api.get("/api/v1/processes/web/logs", params={"grep": "WEB LINE", "i": "true", "lines": 3})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["lines"]) == 3 and all("web line" in x for x in body["lines"])
    assert body["search"]["matches"] == 3 and body["search"]["ignore_case"] is True
    assert 0 < body["search"]["searched"] <= body["search"]["size"]


def test_logs_grep_with_a_catastrophic_pattern_is_a_400(api: Api) -> None:
    r = api.get("/api/v1/processes/web/logs", params={"grep": "(a+)+$"})
    assert r.status_code == 400 and "repeats a group" in r.json()["detail"]
    r = api.get("/api/v1/processes/web/logs", params={"i": "true"})
    assert r.status_code == 400 and "go with `grep`" in r.json()["detail"]
