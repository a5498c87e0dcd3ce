"""Refusals no retry can fix (bad token, wrong channel): `alerts deliver` stops and says what to
fix; serve's sender holds the rows and says so once; both send them once the cause is fixed."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.alerts.service import AlertsWorker
from bot.slack import api_errors
from bot.storage.alerts.store import AlertStore
from bot.storage.tables import alert_events
from bot.supervisor.client import NodeClient
from tests.alerts.conftest import AlertEnv, MakeEnv, deliver, finish, start_crashing
from tests.conftest import wait_until


def crash_recorded(env: AlertEnv) -> None:
    """A crash seen by the listener, not sent (the listener does not send here)."""
    start_crashing(NodeClient(env.sv.node()), "crashy:crashy")
    store, exited = env.store(), alert_events.c.state == "EXITED"

    def recorded() -> object:
        with store.connect() as db:
            return db.execute(select(alert_events.c.id).where(exited)).first()

    wait_until(recorded, 15)


def test_deliver_with_a_refused_token_stops_and_says_what_to_fix(alert_env: MakeEnv) -> None:
    env = alert_env(send_from_listener=False)
    crash_recorded(env)
    env.slack.refusal("invalid_auth")
    code, err = finish(deliver(env, "--deadline", "2m"))
    assert code == 1
    assert "SLACK_BOT_TOKEN was refused (invalid_auth)" in err
    assert "1 message(s) left for later" in err
    assert "Traceback" not in err
    assert AlertStore(env.store()).backlog() == 1
    env.slack.recover()
    code, err = finish(deliver(env))
    assert code == 0, err
    (post,) = env.slack.posts("C0ALERT")
    assert "crashy" in post.body["text"]


def test_deliver_gives_up_at_its_deadline_while_slack_is_down(alert_env: MakeEnv) -> None:
    env = alert_env(send_from_listener=False)
    crash_recorded(env)
    env.slack.outage(503)
    code, err = finish(deliver(env, "--deadline", "2s"))
    assert code == 1
    assert "1 message(s) left for later (the deadline passed)" in err


def test_serve_holds_a_channel_the_bot_is_not_in_and_says_so_once(
    alert_env: MakeEnv, caplog: pytest.LogCaptureFixture
) -> None:
    env = alert_env(send_from_listener=False)
    env.slack.refusal("not_in_channel")
    services = env.services()
    worker = AlertsWorker(services, watch=False)
    refused = ("chat.postMessage", "not_in_channel")
    counted = api_errors.counts().get(refused, 0)
    try:
        crash_recorded(env)
        with caplog.at_level(logging.INFO, logger="supbot.alerts"):
            wait_until(lambda: worker.step() > 0 and env.slack.calls, 15)
            for _ in range(20):  # the held row is not tried again and again
                worker.step()
        assert len(env.slack.calls) == 1
        assert api_errors.counts().get(refused, 0) == counted + 1  # for /metrics
        hints = [
            r.getMessage() for r in caplog.records if "not a member of C0ALERT" in r.getMessage()
        ]
        assert len(hints) == 1, hints
        assert "/invite" in hints[0]
    finally:
        worker.stop()
    env.slack.recover()
    restarted = AlertsWorker(services, watch=False).start()  # e.g. after the bot was invited
    try:
        wait_until(lambda: env.slack.posts("C0ALERT"), 15)
    finally:
        restarted.stop()
        services.close()
