"""`supbot serve` as a user starts it: refuses unsafe configurations, serves HTTP mode."""

from __future__ import annotations

import json
import subprocess
import time
import urllib.error
import urllib.request

from tests.conftest import basic_toml, free_port, wait_until
from tests.fakes.slack import FakeSlack
from tests.slack.harness import BOT_TOKEN, SECRET, post_slash, serve, slack_env


def test_http_mode_refuses_to_start_without_a_signing_secret(supervisor, tmp_path, fake_slack):
    (tmp_path / "supbot.toml").write_text(basic_toml(supervisor))
    env = {**slack_env(fake_slack), "SLACK_SIGNING_SECRET": ""}
    proc = serve(tmp_path, env, "--http", "--port", str(free_port()))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "SLACK_SIGNING_SECRET" in err and "Traceback" not in err


def test_socket_mode_without_an_app_token_says_what_to_set(supervisor, tmp_path, fake_slack):
    (tmp_path / "supbot.toml").write_text(basic_toml(supervisor))
    proc = serve(tmp_path, slack_env(fake_slack))
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2 and "SLACK_APP_TOKEN" in err


def test_serve_http_answers_a_signed_slash_command(supervisor, tmp_path, fake_slack: FakeSlack):
    (tmp_path / "supbot.toml").write_text(basic_toml(supervisor))
    port = free_port()
    proc = serve(
        tmp_path, slack_env(fake_slack), "--http", "--host", "127.0.0.1", "--port", str(port)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _get(base + "/healthz") == 200, 30, 0.1)
        path = post_slash(base, fake_slack, "status")
        fake_slack.wait_call("response", "worker_00", where=lambda c: c.path == path)
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def test_serve_http_starts_while_slack_is_down_and_recovers(supervisor, tmp_path):
    (tmp_path / "supbot.toml").write_text(basic_toml(supervisor))
    slack_port, port = free_port(), free_port()
    # nothing listens on slack_port yet: Slack is down when serve starts
    env = {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SECRET}
    env["SLACK_API_URL"] = f"http://127.0.0.1:{slack_port}/api/"
    proc = serve(tmp_path, env, "--http", "--host", "127.0.0.1", "--port", str(port))
    base = f"http://127.0.0.1:{port}"
    fake = None
    try:
        wait_until(lambda: _get(base + "/readyz") == 503, 30, 0.1)
        down = _get_json(base + "/readyz")
        assert down["ok"] is False and "slack" in down["down"], down
        assert _get(base + "/healthz") == 200  # alive: nothing to restart
        assert proc.poll() is None  # still serving, not dead
        fake = FakeSlack(port=slack_port).start()
        wait_until(lambda: _get(base + "/readyz") == 200, 90, 0.2)
        path = post_slash(base, fake, "status")
        fake.wait_call("response", "worker_00", where=lambda c: c.path == path)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
        if fake is not None:
            fake.stop()
    assert "Traceback" not in err
    assert err.count("Slack is not usable yet") <= 1, err  # one line, not one per retry


def _get_json(url: str) -> dict:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return dict(json.load(response))
    except urllib.error.HTTPError as error:
        return dict(json.load(error))


def test_readyz_says_slack_is_down_seconds_after_a_call_it_did_not_answer(
    supervisor, tmp_path, fake_slack: FakeSlack
):
    """Once confirmed, auth.test is repeated every 2 minutes; a Web API call that Slack does
    not answer makes serve look again at once, so /readyz (a load balancer, a probe) knows."""
    (tmp_path / "supbot.toml").write_text(basic_toml(supervisor))
    port = free_port()
    proc = serve(
        tmp_path, slack_env(fake_slack), "--http", "--host", "127.0.0.1", "--port", str(port)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _get(base + "/readyz") == 200, 30, 0.1)
        # Bolt's own auth.test, once, while Slack answers
        path = post_slash(base, fake_slack, "status")
        fake_slack.wait_call("response", "worker_00", where=lambda c: c.path == path)
        fake_slack.outage()  # chat.* answers 503 …
        fake_slack.fail("auth.test", 503, "")  # … and so does auth.test
        started = time.monotonic()
        # An operator's restart posts its progress line with chat.postMessage: 503.
        path = post_slash(base, fake_slack, "restart worker:worker_00")
        fake_slack.wait_call("response", "worker_00", where=lambda c: c.path == path)
        wait_until(lambda: _get(base + "/readyz") == 503, 15, 0.1)
        assert time.monotonic() - started < 15  # not the 2-minute recheck
        assert "slack" in _get_json(base + "/readyz")["down"]
        fake_slack.recover()
        wait_until(lambda: _get(base + "/readyz") == 200, 30, 0.2)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err


def test_a_replica_started_while_slack_is_down_still_takes_commands(
    supervisor, tmp_path, fake_slack: FakeSlack
):
    """Bolt asks auth.test before a process's first request and drops it when Slack does not
    answer. What Slack said last on this host (no secret: team and bot ids) answers instead,
    so a replica or worker started during a Web API outage still answers via response_url."""
    (tmp_path / "supbot.toml").write_text(basic_toml(supervisor))

    def start() -> tuple[subprocess.Popen[str], str]:
        port = free_port()
        args = ("--http", "--host", "127.0.0.1", "--port", str(port))
        return serve(tmp_path, slack_env(fake_slack), *args), f"http://127.0.0.1:{port}"

    first, base = start()
    try:
        wait_until(lambda: _get(base + "/readyz") == 200, 30, 0.1)  # Slack confirmed once
    finally:
        first.terminate()
        first.communicate(timeout=20)
    assert list((tmp_path / "state").glob("slack-identity-*.json"))
    fake_slack.fail("auth.test", 503, "")  # the Web API is down; response_url still works
    proc, base = start()
    try:
        wait_until(lambda: _get(base + "/healthz") == 200, 30, 0.1)
        assert _get(base + "/readyz") == 503  # it says Slack is down …
        path = post_slash(base, fake_slack, "status")
        # … and answers all the same
        fake_slack.wait_call("response", "worker_00", where=lambda c: c.path == path)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
    assert "Traceback" not in err
    assert "Failed to authorize" not in err
