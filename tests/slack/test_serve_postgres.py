"""`supbot serve` with its state on PostgreSQL: it starts while the server is down (one clear
line, /readyz says so, no crash loop) and carries on once the server is up."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

from tests.conftest import basic_toml, free_port, wait_until
from tests.fakes.slack import FakeSlack
from tests.slack.harness import post_slash, serve, slack_env
from tests.storage.postgres import PostgresServer


def _health(url: str) -> tuple[int, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status), dict(json.load(response))
    except urllib.error.HTTPError as error:
        return error.code, dict(json.load(error))
    except OSError:
        return 0, {}


def test_serve_starts_while_postgresql_is_down_and_carries_on(
    supervisor, tmp_path, fake_slack: FakeSlack
) -> None:
    server = PostgresServer()  # its port is chosen; nothing listens there yet
    toml = basic_toml(supervisor).replace(
        '[storage]\ndir = "state"',
        f'[storage]\ndir = "state"\nurl = "{server.url()}"\nauto_upgrade = true',
    )
    (tmp_path / "supbot.toml").write_text(toml)
    port = free_port()
    proc = serve(
        tmp_path, slack_env(fake_slack), "--http", "--host", "127.0.0.1", "--port", str(port)
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _health(base + "/readyz")[0] == 503, 30, 0.1)
        status, body = _health(base + "/readyz")
        assert "is unreachable" in body["down"]["state"], body
        assert "postgres@127.0.0.1" in body["down"]["state"]
        assert proc.poll() is None  # serving, not dead
        server.start()
        wait_until(lambda: _health(base + "/readyz")[0] == 200, 60, 0.2)
        post_slash(base, fake_slack, "restart idle")
        fake_slack.wait_call("chat.update", "Restarted by <@U0OPER>", timeout=30)
        import psycopg

        with psycopg.connect(server.url()) as conn:  # the action is audited in PostgreSQL
            found = conn.execute("SELECT actor, action, target FROM audit").fetchall()
        assert ("U0OPER", "restart", "idle@local") in found, found
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=20)
        server.stop()
    assert "Traceback" not in err, err
    assert 1 <= err.count("is unreachable") <= 2, err  # one line (per process), not per retry
