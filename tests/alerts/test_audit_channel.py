"""The audit channel goes through the alerts outbox: a Slack outage, a killed deliverer and a
restart lose no line, repeat none, and keep their order."""

from __future__ import annotations

import signal

from bot.alerts.service import AlertsWorker
from bot.auth import Authorizer
from tests.alerts.conftest import AlertEnv, MakeEnv, deliver, finish
from tests.conftest import wait_until

AUDIT = '\n[audit]\nchannel = "C0AUDIT"\n'


def audit_actions(env: AlertEnv) -> list[str]:
    """The action of every line the audit channel shows, in order."""
    return [p.body["text"].split("`")[1] for p in env.slack.posts("C0AUDIT")]


def test_audit_lines_survive_an_outage_and_a_killed_deliverer_in_order_once(
    alert_env: MakeEnv,
) -> None:
    env = alert_env(listener=False, extra_toml=AUDIT)
    services = env.services()
    admin = Authorizer.local_admin("ops")
    worker = AlertsWorker(services, watch=False)
    worker.step()  # places the channel's cursor: what happens from now on is posted
    worker.start()
    try:
        env.slack.outage(503)
        for action in ("restart", "stop", "start"):
            services.processes.act(admin, action, "steady")
        wait_until(lambda: len(env.slack.calls) >= 2, 20)  # tried, and refused, twice
    finally:
        worker.stop()
    killed = deliver(env)
    seen = len(env.slack.calls)
    wait_until(lambda: len(env.slack.calls) > seen, 20)  # it tried during the outage too
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    for action in ("stop", "start"):  # recorded while nothing delivers
        services.processes.act(admin, action, "steady")
    env.slack.recover()
    code, err = finish(deliver(env, "--deadline", "2m"), 150)
    assert code == 0, err
    assert audit_actions(env) == ["restart", "stop", "start", "stop", "start"]
    texts = [p.body["text"] for p in env.slack.posts("C0AUDIT")]
    assert all("`steady@local` by `cli:ops`" in text for text in texts), texts
    services.close()
