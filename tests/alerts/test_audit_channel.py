"""The audit channel goes through the alerts outbox: a Slack outage, a killed deliverer and a
restart lose no line, repeat none, and keep their order."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

from bot.alerts.service import AlertsWorker
from bot.auth import Authorizer
from tests.alerts.conftest import TOKEN, AlertEnv, MakeEnv
from tests.conftest import wait_until

AUDIT = '\n[audit]\nchannel = "C0AUDIT"\n'


def deliver(env: AlertEnv, *args: str) -> subprocess.Popen[str]:
    """`supbot alerts deliver` as its own process, as cron or an operator would run it."""
    environ = {
        **os.environ,
        "SUPBOT_CONFIG": str(env.config),
        "SLACK_BOT_TOKEN": TOKEN,
        "SLACK_API_URL": env.slack.url,
    }
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "alerts", "deliver", *args],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str]:
    """Its exit status and stderr; killed (and the test failed) when it does not end."""
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise AssertionError(f"`alerts deliver` still running after {timeout}s") from None
    return proc.returncode, err


def audit_actions(env: AlertEnv) -> list[str]:
    """The action of every line the audit channel shows, in order."""
    return [p.params["text"].split("`")[1] for p in env.slack.posts("C0AUDIT")]


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
        env.slack.outage = 503
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
    env.slack.outage = 0
    code, err = finish(deliver(env, "--deadline", "2m"), 150)
    assert code == 0, err
    assert audit_actions(env) == ["restart", "stop", "start", "stop", "start"]
    texts = [p.params["text"] for p in env.slack.posts("C0AUDIT")]
    assert all("`steady@local` by `cli:ops`" in text for text in texts), texts
    services.close()
