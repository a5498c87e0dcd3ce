"""Silences, maintenance windows, deploys and routing end to end: a real supervisord whose
`supbot listen` records and delivers to the fake Slack; silences and deploys set through the
real API; summaries queued by the housekeeping step `supbot serve` runs every 10 s."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from bot.alerts.silence_summary import SilenceSummaries
from bot.config_load import load_settings
from bot.replies import MessageReply
from bot.services import Services
from bot.storage.alerts.store import AlertStore
from bot.supervisor.client import NodeClient
from tests.alerts.conftest import TOKEN, AlertEnv, MakeEnv, start_crashing
from tests.api.conftest import serve, stop
from tests.conftest import wait_until

API_TOKENS = """
[[api_tokens]]
name = "deploy"
token_env = "TOK_DEPLOY"
role = "operator"
programs = ["*"]
"""
SECRET = "deploy-token-1234567890"
WINDOW = """
[[silences]]
schedule = "* * * * *"
for = "10m"
match = "crashy"
reason = "nightly backup"
"""
WEB_TEAM = """
[[channels]]
id = "C0WEB"
programs = ["crashy", "failing"]
viewers = ["*"]
alerts_channel = "C0WEBALERT"
alert_on = ["fatal"]
mention = "S0WEBTEAM"
"""


@dataclass
class Api:
    env: AlertEnv
    services: Services
    base: str

    def call(self, method: str, path: str, **kw: Any) -> requests.Response:
        headers = {"Authorization": f"Bearer {SECRET}"}
        url = f"{self.base}/api/v1{path}"
        return requests.request(method, url, headers=headers, timeout=30, **kw)


@pytest.fixture
def make_api(alert_env: MakeEnv) -> Iterator[Callable[[str], Api]]:
    """The alert env (with `toml` after its [alerts] keys) and the API served on the same
    state, with an operator token for deploy scripts."""
    served: list[Any] = []
    made: list[Services] = []

    def make(toml: str = "") -> Api:
        env = alert_env(extra_toml=toml)
        config = env.config.with_name("api.toml")
        config.write_text(env.config.read_text() + API_TOKENS)
        secrets = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": env.slack.url, "TOK_DEPLOY": SECRET}
        services = Services.build(load_settings(str(config), env=secrets))
        made.append(services)
        served.append(serve(services))
        return Api(env, services, served[-1].base)

    yield make
    for server in served:
        stop(server)
    for services in made:
        services.close()


@pytest.fixture
def api(make_api: Callable[[str], Api]) -> Api:
    return make_api("")


def _crash(env: AlertEnv, name: str = "crashy:crashy") -> None:
    start_crashing(NodeClient(env.sv.node()), name)


def _held(api: Api, silence: int) -> int:
    listed = api.call("GET", "/silences").json()["silences"]
    return next((s["crashes"] for s in listed if s["id"] == silence), 0)


def test_a_silence_set_through_the_api_holds_posts_back_and_ends_with_one_summary(
    api: Api,
) -> None:
    body = {"match": "crashy*", "for": "10m", "reason": "deploy 1.4.2"}
    made = api.call("POST", "/silences", json=body)
    assert made.status_code == 201, made.text
    silence = made.json()["silence"]
    assert (silence["match"], silence["by"]) == ("crashy*", "api:deploy")
    _crash(api.env)
    wait_until(lambda: _held(api, silence["id"]) == 1, 15)
    _crash(api.env)
    wait_until(lambda: _held(api, silence["id"]) == 2, 15)
    wait_until(api.env.idle, 10)
    assert api.env.slack.posts("C0ALERT") == []  # counted, not posted
    assert api.call("DELETE", f"/silences/{silence['id']}").status_code == 200
    assert api.call("DELETE", f"/silences/{silence['id']}").status_code == 400  # ended
    summaries = SilenceSummaries(api.services, AlertStore(api.services.store))
    assert summaries.run() == 1
    assert summaries.run() == 0  # once, whoever runs it again
    wait_until(lambda: api.env.slack.posts("C0ALERT"), 15)
    wait_until(api.env.idle, 10)
    (post,) = api.env.slack.posts("C0ALERT")
    assert "2 crashes of *crashy@local* during the silence" in post.text()
    assert "deploy 1.4.2" in post.text() and "now EXITED" in post.text()
    done = [(e.action, e.outcome) for e in api.services.audit.since() if e.actor == "api:deploy"]
    assert ("silence", "ok") in done and ("unsilence", "ok") in done


def test_silence_requests_with_bad_fields_get_a_clear_400(api: Api) -> None:
    for body, says in (
        ({"match": "crashy"}, '"for" is required'),
        ({"match": "crashy", "for": "soon"}, "is not a duration"),
        ({"match": "crashy", "for": "10s"}, "between 1 minute and 7 days"),
        ({"match": "crashy", "for": "10m", "until": "x"}, "Unknown field 'until'"),
    ):
        answer = api.call("POST", "/silences", json=body)
        assert answer.status_code == 400 and says in answer.json()["detail"], answer.text
    assert api.call("POST", "/silences", json={"match": "nosuch", "for": "1h"}).status_code == 404


def test_a_maintenance_window_silences_crashes_at_its_time(
    make_api: Callable[[str], Api],
) -> None:
    api = make_api(WINDOW)
    _crash(api.env)
    viewer = api.services.authorizer.for_channel("U0VIEW", "C0ALERT", "slash")

    def listed() -> str:
        reply = api.services.dispatcher.run_text(viewer, "silences")
        assert isinstance(reply, MessageReply)
        return reply.text

    wait_until(lambda: "1 crash held back" in listed(), 15)
    assert "crashy until" in listed() and "a [[silences]] window — nightly backup" in listed()
    wait_until(api.env.idle, 10)
    assert api.env.slack.posts("C0ALERT") == []


def test_a_deploy_shows_on_the_next_incident_of_its_program(api: Api) -> None:
    body = {"what": "crashy", "version": "1.4.2", "by": "ci"}
    made = api.call("POST", "/deploys", json=body)
    assert made.status_code == 201 and made.json()["deploy"]["actor"] == "api:deploy"
    _crash(api.env)
    wait_until(lambda: api.env.slack.posts("C0ALERT", top_level=True), 15)
    (post,) = api.env.slack.posts("C0ALERT", top_level=True)
    assert "after deploy 1.4.2 (crashy, by ci)" in post.text()
    assert ("deploy", "ok") in [(e.action, e.outcome) for e in api.services.audit.since()]


def test_a_binding_with_alert_on_fatal_gets_no_crash_post_but_the_fatal_one(
    make_api: Callable[[str], Api],
) -> None:
    api = make_api(WEB_TEAM)
    _crash(api.env)  # EXITED: a crash, not FATAL
    _crash(api.env, "failing:failing")  # BACKOFF … FATAL after its retries
    wait_until(lambda: api.env.slack.posts("C0WEBALERT"), 20)
    wait_until(api.env.idle, 10)
    (post,) = api.env.slack.posts("C0WEBALERT")
    assert "failing@local" in post.text() and "FATAL" in post.text()
    assert "<!subteam^S0WEBTEAM>" in post.text()
    assert api.env.slack.posts("C0ALERT") == []  # crashy's crash went nowhere else either
