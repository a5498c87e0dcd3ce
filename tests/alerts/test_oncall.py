"""On call end to end (real supervisord, `supbot listen` delivering to the fake Slack): Ack
takes ownership and stops escalation, an unacked incident escalates once, viewers may not
ack, `/sup incidents` lists, and the API acks and resolves."""

from __future__ import annotations

import sqlite3
import time
from contextlib import closing
from pathlib import Path

import requests

from bot.alerts.escalation import Escalation
from bot.config_load import load_settings
from bot.replies import MessageReply
from bot.services import Services
from bot.state import DB_NAME, Store
from bot.storage.alerts.store import AlertStore
from bot.supervisor.client import NodeClient
from tests.alerts.conftest import TOKEN, AlertEnv, MakeEnv, start_crashing
from tests.api.conftest import serve, stop
from tests.conftest import wait_until
from tests.fakes.slack import Call

ESCALATION = 'escalate_after = "10m"\nescalate_to = "S0SECONDLINE"\n'
API_TOKENS = """
[[api_tokens]]
name = "ops"
token_env = "TOK_OPS"
role = "operator"
programs = ["*"]

[[api_tokens]]
name = "watcher"
token_env = "TOK_WATCH"
role = "viewer"
programs = ["*"]
"""
SECONDLINE = "<!subteam^S0SECONDLINE>"
LEVELS = """
[[alerts.escalation]]
after = "10m"
to = "S0FIRSTLINE"

[[alerts.escalation]]
after = "30m"
to = "S0SECONDLINE"
"""


def _crash_posted(env: AlertEnv) -> tuple[Call, int]:
    """Crash `crashy` and return its alert and the incident number on its Ack button."""
    start_crashing(NodeClient(env.sv.node()), "crashy:crashy")
    wait_until(lambda: env.slack.posts("C0ALERT", top_level=True), 15)
    wait_until(env.idle, 10)
    post = env.slack.posts("C0ALERT", top_level=True)[0]
    (ack,) = [v for v in post.button_values() if v.startswith("ack ")]
    return post, int(ack.split()[1])


def _escalations(env: AlertEnv) -> list[Call]:
    return [p for p in env.slack.posts("C0ALERT", top_level=False) if SECONDLINE in p.text()]


def _refused(env: AlertEnv) -> list[Call]:
    return [c for c in env.slack.calls if c.status == 503]


def _escalate_later(env: AlertEnv, services: Services, minutes: float = 11) -> int:
    """The housekeeping check as it runs `minutes` from now (no waiting 10 minutes)."""
    escalation = Escalation(AlertStore(services.store), services.settings, services.audit)
    return escalation.run(time.time() + minutes * 60)


def _thread_mentions(env: AlertEnv) -> list[str]:
    """The groups mentioned in the alert's thread, in order."""
    replies = env.slack.posts("C0ALERT", top_level=False)
    return [g for p in replies for g in ("S0FIRSTLINE", "S0SECONDLINE") if g in p.text()]


def _escalations_audited(services: Services) -> list[str]:
    return [e.target for e in services.audit.since() if e.actor == "escalation"]


def test_unacked_incident_escalates_once_in_its_thread(alert_env: MakeEnv) -> None:
    env = alert_env(extra_toml=ESCALATION)
    services = env.services()
    post, _ = _crash_posted(env)
    assert _escalate_later(env, services) == 1
    assert _escalate_later(env, services) == 0  # once per level, however often it runs
    wait_until(lambda: _escalations(env), 15)
    wait_until(env.idle, 10)
    (reply,) = _escalations(env)
    assert reply.body["thread_ts"] == post.ts
    assert "has not been acknowledged in 10m — escalating" in reply.text()
    services.close()


def test_unacked_incident_escalates_exactly_once_per_level(alert_env: MakeEnv) -> None:
    env = alert_env(extra_toml=LEVELS)
    services = env.services()
    post, incident = _crash_posted(env)
    assert _escalate_later(env, services, 5) == 0  # no level is due yet
    assert _escalate_later(env, services, 11) == 1
    assert _escalate_later(env, services, 11) == 0
    assert _escalate_later(env, services, 31) == 1
    assert _escalate_later(env, services, 60) == 0  # no third level
    wait_until(lambda: len(_thread_mentions(env)) >= 2, 15)
    wait_until(env.idle, 10)
    assert _thread_mentions(env) == ["S0FIRSTLINE", "S0SECONDLINE"]
    second = env.slack.posts("C0ALERT", top_level=False)[-1]
    assert second.body["thread_ts"] == post.ts
    assert "not been acknowledged in 30m — escalating (level 2)" in second.text()
    assert _escalations_audited(services) == [
        f"#{incident} crashy@local → S0FIRSTLINE (level 1)",
        f"#{incident} crashy@local → S0SECONDLINE (level 2)",
    ]
    services.close()


def test_levels_missed_while_supbot_was_down_are_each_posted_once(alert_env: MakeEnv) -> None:
    env = alert_env(extra_toml=LEVELS)
    services = env.services()
    _crash_posted(env)
    assert _escalate_later(env, services, 45) == 2
    assert _escalate_later(env, services, 45) == 0
    wait_until(lambda: len(_thread_mentions(env)) >= 2, 15)
    wait_until(env.idle, 10)
    assert _thread_mentions(env) == ["S0FIRSTLINE", "S0SECONDLINE"]
    services.close()


def test_ack_between_levels_stops_the_next_one(alert_env: MakeEnv) -> None:
    env = alert_env(extra_toml=LEVELS)
    services = env.services()
    _, incident = _crash_posted(env)
    assert _escalate_later(env, services, 11) == 1
    # Acked once the first level is out (an Ack while it still waits would stop it too).
    wait_until(lambda: _thread_mentions(env) == ["S0FIRSTLINE"], 15)
    operator = services.authorizer.for_channel("U0OPER", "C0ALERT", "button")
    services.dispatcher.run_text(operator, f"ack {incident}")
    assert _escalate_later(env, services, 31) == 0
    wait_until(env.idle, 15)
    assert _thread_mentions(env) == ["S0FIRSTLINE"]
    assert len(_escalations_audited(services)) == 1
    services.close()


def test_ack_stops_escalation_and_shows_the_owner(alert_env: MakeEnv) -> None:
    env = alert_env(extra_toml=ESCALATION)
    services = env.services()
    post, incident = _crash_posted(env)
    viewer = services.authorizer.for_channel("U0VIEW", "C0ALERT", "button")
    refused = services.dispatcher.run_text(viewer, f"ack {incident}")
    assert isinstance(refused, MessageReply) and refused.error
    operator = services.authorizer.for_channel("U0OPER", "C0ALERT", "button")
    reply = services.dispatcher.run_text(operator, f"ack {incident}")
    assert isinstance(reply, MessageReply) and not reply.error, reply
    # The message as it reads now (the log tail's edit may come before or after the ack's).
    wait_until(lambda: "👀 acked by" in env.slack.messages()[post.ts].text(), 10)
    edit = env.slack.messages()[post.ts]
    assert edit.method == "chat.update"
    assert "👀 acked by <@U0OPER> <!date^" in edit.text()
    assert f"unack {incident}" in edit.button_values()
    assert _escalate_later(env, services) == 0
    listing = services.dispatcher.run_text(viewer, "incidents")
    assert isinstance(listing, MessageReply)
    assert f"#{incident} crashy@local" in listing.text and "acked by <@U0OPER>" in listing.text
    wait_until(env.idle, 10)
    assert _escalations(env) == []
    actions = [(e.action, e.outcome) for e in services.audit.since() if e.actor == "U0OPER"]
    assert ("ack", "ok") in actions
    services.close()


def test_ack_after_the_escalation_was_queued_still_stops_it(alert_env: MakeEnv) -> None:
    env = alert_env(extra_toml=ESCALATION)
    services = env.services()
    _, incident = _crash_posted(env)
    env.slack.outage(503)  # the escalation waits in the outbox
    assert _escalate_later(env, services) == 1
    operator = services.authorizer.for_channel("U0OPER", "C0ALERT", "button")
    services.dispatcher.run_text(operator, f"ack {incident}")
    # Two more refused posts: the second was prepared after the ack had been saved (a post
    # already under way when the ack lands goes out: nothing can call it back).
    refused = len(_refused(env))
    wait_until(lambda: len(_refused(env)) >= refused + 2, 30)
    env.slack.recover()
    wait_until(env.idle, 30)
    assert _escalations(env) == []
    services.close()


def test_api_lists_acks_and_resolves_incidents(alert_env: MakeEnv) -> None:
    env = alert_env(extra_toml=ESCALATION)
    # The API's own config (same state directory): the listener has no use for the tokens.
    api_config = env.config.with_name("api.toml")
    api_config.write_text(env.config.read_text() + API_TOKENS)
    tokens = {"TOK_OPS": "ops-token-1234567890", "TOK_WATCH": "watch-token-1234567890"}
    settings = load_settings(
        str(api_config), env={"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": env.slack.url, **tokens}
    )
    services = Services.build(settings)
    served = serve(services)
    try:
        post, incident = _crash_posted(env)

        def call(method: str, path: str, token: str, **kw: object) -> requests.Response:
            headers = {"Authorization": f"Bearer {tokens[token]}"}
            url = f"{served.base}/api/v1{path}"
            return requests.request(method, url, headers=headers, timeout=30, **kw)  # type: ignore[arg-type]

        listed = call("GET", "/incidents", "TOK_WATCH").json()["incidents"]
        assert [(i["id"], i["target"], i["acked_by"]) for i in listed] == [
            (incident, "crashy@local", None)
        ]
        assert call("POST", f"/incidents/{incident}/ack", "TOK_WATCH").status_code == 403
        assert call("POST", "/incidents/999/ack", "TOK_OPS").status_code == 404
        acked = call("POST", f"/incidents/{incident}/ack", "TOK_OPS")
        assert acked.status_code == 200 and acked.json()["incident"]["acked_by"] == "api:ops"
        body = {"note": "bad password in .env, fixed"}
        done = call("POST", f"/incidents/{incident}/resolve", "TOK_OPS", json=body)
        assert done.status_code == 200, done.text
        assert done.json()["incident"]["status"] == "resolved"
        assert call("GET", "/incidents", "TOK_WATCH").json()["incidents"] == []
        wait_until(lambda: "resolved by hand" in env.slack.messages()[post.ts].text(), 15)
        assert "bad password in .env, fixed" in env.slack.messages()[post.ts].text()
        actions = [(e.action, e.outcome) for e in services.audit.since() if e.actor == "api:ops"]
        assert ("ack", "ok") in actions and ("resolve", "ok") in actions
    finally:
        stop(served)
        services.close()


# alert_incidents as supbot wrote it before on call (migration 0002 adds the columns).
BEFORE_ONCALL = """
CREATE TABLE alert_incidents (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL DEFAULT 'process',
    node TEXT NOT NULL, process TEXT NOT NULL, channel TEXT NOT NULL,
    status TEXT NOT NULL DEFAULT 'open', opened REAL NOT NULL, last REAL NOT NULL, closed REAL,
    crashes INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL, from_state TEXT NOT NULL DEFAULT '',
    exitstatus INTEGER, pid INTEGER NOT NULL DEFAULT 0, tries INTEGER NOT NULL DEFAULT 0,
    recovered_pid INTEGER NOT NULL DEFAULT 0, rollup INTEGER, snoozed INTEGER NOT NULL DEFAULT 0,
    ts TEXT, log TEXT
);
INSERT INTO alert_incidents(node, process, channel, opened, last, state)
VALUES ('local', 'web:web', 'C0ALERT', 1, 1, 'EXITED');
"""


def test_a_database_from_before_on_call_gets_the_new_columns(tmp_path: Path) -> None:
    with closing(sqlite3.connect(tmp_path / DB_NAME)) as db:  # an old SQLite state, as written
        db.executescript(BEFORE_ONCALL)
    alerts = AlertStore(Store(tmp_path))  # SQLite upgrades at the first use
    (inc,) = alerts.open_incidents()
    assert (inc.acked_by, inc.escalated, inc.note) == (None, 0, "")
