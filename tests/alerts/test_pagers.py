"""Pagers end to end: a real supervisord, `supbot listen` delivering, the loopback PagerDuty
and Opsgenie (tests/fakes/pagers.py). A crash triggers once, an Ack acknowledges, a recovery or
a resolve resolves once, an outage of PagerDuty loses nothing and doubles nothing, and every
call is audited."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from bot.storage.alerts.store import AlertStore
from bot.supervisor.client import NodeClient
from tests.alerts.conftest import AlertEnv, MakeEnv, start_crashing
from tests.conftest import wait_until
from tests.fakes.pagers import FakeOpsgenie, FakePagerDuty
from tests.storage.support import supbot

PD_KEY = "R0UTINGKEY0123456789ABCDEFGHIJKL"  # 32 characters, like PagerDuty's
OG_KEY = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
KEYS = {"PD_KEY": PD_KEY, "OG_KEY": OG_KEY}


@pytest.fixture
def pagers() -> Iterator[tuple[FakePagerDuty, FakeOpsgenie]]:
    pd, og = FakePagerDuty(PD_KEY), FakeOpsgenie(OG_KEY)
    yield pd, og
    pd.stop()
    og.stop()


def _toml(pd: FakePagerDuty, og: FakeOpsgenie) -> str:
    return f"""
[alerts.pagerduty]
routing_key_env = "PD_KEY"
url = "{pd.url}"

[alerts.opsgenie]
api_key_env = "OG_KEY"
url = "{og.url}"
priority = "P2"
"""


def _env(alert_env: MakeEnv, pd: FakePagerDuty, og: FakeOpsgenie) -> AlertEnv:
    return alert_env(extra_toml=_toml(pd, og), env=KEYS)


def _open(env: AlertEnv) -> list[int]:
    return [i.id for i in AlertStore(env.store()).open_incidents()]


def test_a_crash_and_its_recovery_page_once_and_resolve_once(
    alert_env: MakeEnv, pagers: tuple[FakePagerDuty, FakeOpsgenie]
) -> None:
    pd, og = pagers
    env = _env(alert_env, pd, og)
    start_crashing(NodeClient(env.sv.node()), "once:once")  # fails once, then stays up
    wait_until(lambda: len(pd.accepted()) >= 2 and len(og.accepted()) >= 2, 30)
    wait_until(env.idle, 15)
    (trigger, resolve) = pd.accepted()
    assert trigger[0] == "trigger" and resolve[0] == "resolve" and trigger[1] == resolve[1]
    assert trigger[1].startswith("supbot-")
    sent = pd.triggers()[0].body["payload"]
    assert "once@local crashed (EXITED" in sent["summary"]
    assert (sent["source"], sent["severity"]) == ("local", "critical")
    assert og.accepted() == [("create", trigger[1]), ("close", trigger[1])]
    assert og.calls[0].body["priority"] == "P2"


def test_ack_in_slack_acknowledges_and_resolve_closes_at_both_pagers(
    alert_env: MakeEnv, pagers: tuple[FakePagerDuty, FakeOpsgenie]
) -> None:
    pd, og = pagers
    env = _env(alert_env, pd, og)
    services = env.services()
    start_crashing(NodeClient(env.sv.node()), "crashy:crashy")
    wait_until(lambda: pd.accepted() and og.accepted(), 30)
    (incident,) = _open(env)
    operator = services.authorizer.for_channel("U0OPER", "C0ALERT", "button")
    services.dispatcher.run_text(operator, f"ack {incident}")
    services.dispatcher.run_text(operator, f"ack {incident}")  # again: the pager heard once
    services.dispatcher.run_text(operator, f"resolve {incident} rolled back")
    wait_until(lambda: len(pd.accepted()) >= 3 and len(og.accepted()) >= 3, 30)
    wait_until(env.idle, 15)
    key = f"supbot-{incident}"
    assert pd.accepted() == [("trigger", key), ("acknowledge", key), ("resolve", key)]
    assert og.accepted() == [("create", key), ("acknowledge", key), ("close", key)]
    assert "rolled back" in og.calls[-1].body["note"]
    pager_calls = [
        (e.actor, e.action, e.outcome)
        for e in services.audit.since()
        if e.actor.startswith("pager:")
    ]
    assert sorted(pager_calls) == sorted(
        [
            (f"pager:{p}", a, "ok")
            for p in ("pagerduty", "opsgenie")
            for a in ("trigger", "acknowledge", "resolve")
        ]
    )
    services.close()


def test_pagerduty_answering_500_still_gets_one_trigger_and_one_resolve(
    alert_env: MakeEnv, pagers: tuple[FakePagerDuty, FakeOpsgenie]
) -> None:
    pd, og = pagers
    pd.fail(500, times=3)
    env = _env(alert_env, pd, og)
    client = NodeClient(env.sv.node())
    start_crashing(client, "once:once")
    wait_until(lambda: pd.refused() >= 2, 30)
    # The listener that holds the calls is restarted in the middle of the outage: the outbox
    # is in the database, so the new one carries on.
    client.stop("supbot:supbot", wait=True)
    client.start("supbot:supbot", wait=True)
    wait_until(lambda: len(pd.accepted()) >= 2, 60)
    wait_until(env.idle, 15)
    (incident,) = {key for _, key in pd.accepted()}
    assert pd.accepted() == [("trigger", incident), ("resolve", incident)]
    assert pd.refused() == 3 and [c.action for c in pd.calls[:3]] == ["trigger"] * 3
    assert len(og.accepted()) == 2  # Opsgenie, on its own channel, was not held up
    result = supbot(env.config, "audit", "--json", env=KEYS)
    assert result.returncode == 0, result.stderr
    audited = [
        (e["action"], e["outcome"])
        for e in json.loads(result.stdout)
        if e["actor"] == "pager:pagerduty"
    ]
    assert audited.count(("trigger", "failed")) == 3
    assert audited.count(("trigger", "ok")) == 1 and audited.count(("resolve", "ok")) == 1


def test_a_bindings_own_pagerduty_gets_its_incidents(
    alert_env: MakeEnv, pagers: tuple[FakePagerDuty, FakeOpsgenie]
) -> None:
    pd, og = pagers
    other = FakePagerDuty("B1NDINGKEY0123456789ABCDEFGHIJKL")
    try:
        binding = f"""
[[channels]]
id = "C0PAY"
programs = ["crashy"]
operators = ["U0OPER"]
alerts_channel = "C0ALERT"

[channels.pagerduty]
routing_key_env = "PD_PAY_KEY"
url = "{other.url}"
"""
        env = alert_env(extra_toml=_toml(pd, og) + binding, env={**KEYS, "PD_PAY_KEY": other.key})
        start_crashing(NodeClient(env.sv.node()), "crashy:crashy")
        wait_until(lambda: other.accepted() and og.accepted(), 30)
        wait_until(env.idle, 15)
        assert [a for a, _ in other.accepted()] == ["trigger"]
        assert pd.calls == []  # the binding's own PagerDuty, not [alerts]'s
        assert [a for a, _ in og.accepted()] == ["create"]  # [alerts]'s Opsgenie still
    finally:
        other.stop()
