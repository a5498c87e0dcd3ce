"""GET /metrics: Prometheus text for a real supervisord's programs, read back with
prometheus_client's own parser."""

from __future__ import annotations

import requests
from prometheus_client import parser
from slack_bolt import App
from slack_sdk import WebClient

from bot.api.app import api_routes
from bot.embedded import EmbeddedSupervisor
from bot.slack import webapi
from bot.slack.serve import http_app
from tests.api.conftest import TOKENS, Api, api_services, serve, serve_app, stop
from tests.conftest import short_tmp, wait_until
from tests.fakes.slack import FakeSlack

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def scrape(base: str, token: str = "viewer") -> Samples:
    r = requests.get(
        base + "/metrics", headers={"Authorization": f"Bearer {TOKENS[token]}"}, timeout=30
    )
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in parser.text_string_to_metric_families(r.text)
        for s in family.samples
    }


def value(samples: Samples, metric: str, **labels: str) -> float | None:
    return samples.get((metric, frozenset(labels.items())))


def slack_errors_since(before: Samples, after: Samples) -> dict[tuple[str, str], float]:
    """How many more Slack API failures `after` counts than `before`, by (method, error)."""
    grown = {}
    for (name, labels), count in after.items():
        if name == "supbot_slack_api_errors_total":
            had = before.get((name, labels)) or 0
            if count != had:
                grown[(dict(labels)["method"], dict(labels)["error"])] = count - had
    return grown


def proc(name: str, group: str | None = None) -> dict[str, str]:
    return {"node": "local", "group": group or name, "name": name}


def test_running_and_stopped_programs_have_their_state_uptime_and_resources(api: Api) -> None:
    m = scrape(api.base)
    assert value(m, "supbot_node_up", node="local") == 1
    assert value(m, "supbot_process_state", **proc("web"), state="RUNNING") == 1
    assert value(m, "supbot_process_state", **proc("web"), state="STOPPED") == 0
    assert value(m, "supbot_process_state", **proc("idle"), state="STOPPED") == 1
    assert value(m, "supbot_process_state", **proc("idle"), state="RUNNING") == 0
    assert (value(m, "supbot_process_uptime_seconds", **proc("web")) or 0) > 0
    assert value(m, "supbot_process_uptime_seconds", **proc("idle")) is None
    assert (value(m, "supbot_process_start_time_seconds", **proc("web")) or 0) > 1.7e9
    assert (value(m, "supbot_process_resident_memory_bytes", **proc("web")) or 0) > 1_000_000
    assert value(m, "supbot_process_cpu_seconds_total", **proc("web")) is not None
    assert value(m, "supbot_process_resident_memory_bytes", **proc("idle")) is None
    worker = proc("worker_00", "worker")
    assert value(m, "supbot_process_state", **worker, state="RUNNING") == 1


def test_alert_and_state_gauges_are_there(api: Api) -> None:
    m = scrape(api.base)
    assert value(m, "supbot_state_up") == 1
    assert value(m, "supbot_incidents_open", kind="process") is not None
    assert value(m, "supbot_alerts_outbox_pending") is not None


def test_job_runs_show_their_last_result_and_failures(api: Api) -> None:
    for job in ("nightly-backup", "nightly-broken"):
        r = api.post(f"/api/v1/jobs/{job}/run", params={"wait": 30})
        assert r.status_code in (200, 409), r.text
    m = scrape(api.base)
    assert value(m, "supbot_job_last_run_result", job="nightly-backup", result="ok") == 1
    assert value(m, "supbot_job_last_run_result", job="nightly-broken", result="failed") == 1
    assert (value(m, "supbot_job_problem_runs", job="nightly-broken", result="failed") or 0) >= 1
    assert value(m, "supbot_job_last_run_duration_seconds", job="nightly-backup") is not None


def test_job_runs_are_counted_by_result_with_their_seconds(api: Api) -> None:
    for job in ("nightly-backup", "nightly-backup", "nightly-broken"):
        r = api.post(f"/api/v1/jobs/{job}/run", params={"wait": 30})
        assert r.status_code in (200, 409), r.text
    m = scrape(api.base)
    assert (value(m, "supbot_job_runs", job="nightly-backup", result="ok") or 0) >= 2
    assert (value(m, "supbot_job_runs", job="nightly-broken", result="failed") or 0) >= 1
    assert value(m, "supbot_job_runs", job="nightly-backup", result="failed") is None
    seconds = value(m, "supbot_job_runs_duration_seconds", job="nightly-backup", result="ok")
    assert seconds is not None and seconds > 0


def test_refused_slack_calls_are_counted_by_method_and_error(api: Api) -> None:
    slack = FakeSlack().start()
    try:
        client = WebClient(token="xoxb-test", base_url=slack.url)
        before = scrape(api.base)
        slack.refusal("not_in_channel")
        assert webapi.post(client, "C0NOTIN", {"text": "hi"}) is None
        assert webapi.post(client, "C0NOTIN", {"text": "hi again"}) is None
        slack.recover()
        assert webapi.post(client, "C0OPS", {"text": "hi"})  # a sent message is not counted
    finally:
        slack.stop()
    grown = slack_errors_since(before, scrape(api.base))
    assert grown[("chat.postMessage", "not_in_channel")] == 2


def test_a_token_sees_only_its_programs_and_jobs(api: Api) -> None:
    m = scrape(api.base, "webview")
    names = {dict(labels).get("name") for name, labels in m if name == "supbot_process_state"}
    assert names == {"web"}
    assert not any(name.startswith("supbot_job_last") for name, _ in m)


def test_metrics_need_a_token(api: Api) -> None:
    r = requests.get(api.base + "/metrics", timeout=10)
    assert r.status_code == 401 and r.json()["error"] == "unauthorized"


def test_metrics_are_off_without_api_tokens(api_supervisor: EmbeddedSupervisor) -> None:
    services = api_services(api_supervisor, short_tmp(), extra="")
    served = serve(services)
    try:
        r = requests.get(served.base + "/metrics", timeout=10)
        assert r.status_code == 404 and "[[api_tokens]]" in r.json()["detail"]
    finally:
        stop(served)
        services.close()


def test_metrics_are_served_next_to_slack_events(api: Api) -> None:
    bolt = App(token="xoxb-test", signing_secret="s3cr3t", token_verification_enabled=False)
    served = serve_app(http_app(bolt, api_routes(api.services), signing_secret="s3cr3t"))
    try:
        wait_until(lambda: served.server.started, 10)
        m = scrape(served.base)
        assert value(m, "supbot_process_state", **proc("web"), state="RUNNING") == 1
    finally:
        stop(served)


def test_a_slack_outage_is_counted_by_status_not_by_its_error_page(api: Api) -> None:
    slack = FakeSlack().start()
    try:
        client = WebClient(token="xoxb-test", base_url=slack.url)
        before = scrape(api.base)
        slack.outage()  # a 503 with an HTML page, as a proxy in front of Slack answers
        assert webapi.post(client, "C0OPS", {"text": "hi"}) is None
    finally:
        slack.stop()
    # counted under the status alone: no label made of the proxy's page
    assert slack_errors_since(before, scrape(api.base)) == {("chat.postMessage", "http_503"): 1}
