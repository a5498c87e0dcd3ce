"""Incidents end to end: recovery edits, BACKOFF→FATAL, Slack outages, snoozes."""

from __future__ import annotations

from sqlalchemy import select

from bot.replies import MessageReply
from bot.state import Store
from bot.storage.tables import alert_events
from bot.supervisor.client import NodeClient
from tests.alerts.conftest import MakeEnv, start_crashing
from tests.conftest import wait_until


def test_recovery_edits_the_parent_message(alert_env: MakeEnv) -> None:
    env = alert_env()
    client = NodeClient(env.sv.node())
    start_crashing(client, "once:once")
    # an edit of the crash message, or (when the recovery came first) the message itself
    wait_until(lambda: "recovered" in env.slack.shown(), 15)
    wait_until(env.idle, 10)
    pid = client.process("once:once").pid  # the second run, which stays up
    posts = env.slack.posts("C0ALERT")
    assert len(posts) == 1
    ts = posts[0].ts
    final = env.slack.messages()[ts]
    assert "recovered after" in final.body["text"] and f"pid {pid}" in final.body["text"]
    assert all(c.body["ts"] == ts for c in env.slack.ok("chat.update"))


def test_backoff_retries_ending_in_fatal_are_one_message_and_one_edit(alert_env: MakeEnv) -> None:
    env = alert_env()
    client = NodeClient(env.sv.node())
    start_crashing(client, "failing:failing")
    wait_until(lambda: client.process("failing:failing").state == "FATAL", 20)
    wait_until(lambda: "FATAL" in env.slack.shown(), 10)
    wait_until(env.idle, 10)
    assert len(env.slack.posts()) == 1
    # the log tail's edit and the FATAL's (one when both were waiting together), none per retry
    assert len(env.slack.ok("chat.update")) <= 2
    (final,) = env.slack.messages().values()
    assert "crashed 3×" in final.body["text"] and "FATAL" in final.body["text"]


def test_slack_outage_loses_no_alert_and_posts_each_once(alert_env: MakeEnv) -> None:
    env = alert_env()
    env.slack.outage(503, times=2)
    env.slack.rate_limit("chat.", times=1, retry_after=2)
    client = NodeClient(env.sv.node())
    start_crashing(client, "crashy:crashy")
    start_crashing(client, "once:once")
    wait_until(lambda: len(env.slack.posts(top_level=True)) >= 2, 30)
    wait_until(env.idle, 20)
    posts = env.slack.posts(top_level=True)
    names = sorted(p.button_values()[0] for p in posts)
    assert names == ["restart crashy@local", "restart once@local"]
    refused = [c for c in env.slack.calls if c.status == 429]
    assert refused and posts[0].at - refused[0].at >= 1.9  # Retry-After honoured
    # the recovery of `once` edited its message rather than posting again
    assert len(env.slack.posts(top_level=True)) == 2


def test_snooze_silences_alerts_counts_crashes_and_unsnooze_restores(alert_env: MakeEnv) -> None:
    env = alert_env()
    services = env.services()
    operator = services.authorizer.for_channel("U0OPER", "C0ALERT", "button")
    viewer = services.authorizer.for_channel("U0VIEW", "C0ALERT", "button")
    refused = services.dispatcher.run_text(viewer, "snooze crashy@local 1h")
    assert isinstance(refused, MessageReply) and refused.error
    reply = services.dispatcher.run_text(operator, "snooze crashy@local 1h")
    assert isinstance(reply, MessageReply) and not reply.error and "snoozed" in reply.text
    client = NodeClient(env.sv.node())
    start_crashing(client, "crashy:crashy")
    wait_until(lambda: client.process("crashy:crashy").state == "EXITED", 10)
    store = env.store()
    wait_until(lambda: env.idle() and _outcomes(store) == ["snoozed"], 10)
    assert env.slack.posts() == []
    listing = services.dispatcher.run_text(operator, "snooze")
    assert isinstance(listing, MessageReply)
    assert "crashy@local" in listing.text and "1 crash suppressed" in listing.text
    back = services.dispatcher.run_text(operator, "unsnooze crashy@local")
    assert isinstance(back, MessageReply) and "1 crash while snoozed" in back.text
    start_crashing(client, "crashy:crashy")
    wait_until(lambda: env.slack.posts("C0ALERT"), 15)
    # a snooze from the alert's button shows on the alert itself
    services.dispatcher.run_text(operator, "snooze crashy@local 24h")
    ts = env.slack.posts("C0ALERT")[0].ts
    wait_until(lambda: "snoozed until" in env.slack.messages()[ts].text(), 10)
    edit = env.slack.messages()[ts]
    assert edit.method == "chat.update" and "<@U0OPER>" in edit.text()
    services.close()


def _outcomes(store: Store) -> list[str]:
    c = alert_events.c
    with store.connect() as db:
        return list(
            db.execute(select(c.outcome).where(c.state == "EXITED").order_by(c.id)).scalars()
        )
