"""The listener running under a real supervisord, delivering to a loopback Slack."""

from __future__ import annotations

from bot.supervisor.client import NodeClient
from tests.alerts.conftest import MakeEnv, start_crashing
from tests.conftest import wait_until


def test_crash_becomes_one_message_with_buttons_and_redacted_log(
    alert_env: MakeEnv, engine: str
) -> None:
    env = alert_env(engine=engine)  # SQLite, and once with the state on PostgreSQL
    start_crashing(NodeClient(env.sv.node()), "crashy:crashy")
    wait_until(lambda: env.slack.posts("C0ALERT"), 15)
    wait_until(env.idle, 10)
    posts = env.slack.posts("C0ALERT")
    assert len(posts) == 1, env.listener_log()
    post = posts[0]
    assert post.button_values() == [
        "restart crashy@local",
        "tail crashy@local",
        "snooze crashy@local 1h",
        "snooze crashy@local 24h",
        "ack 1",
        "resolve 1",
    ]
    assert "crashy@local" in post.text() and "crashed" in post.text()
    text = env.slack.messages()[post.ts].text()  # the log tail and exit status come as an edit
    assert "EXITED" in text and "3 (unexpected)" in text
    assert "<!date^" in text
    assert "db connect failed" in text
    assert "hunter2" not in text and "hunter2" not in post.text()
