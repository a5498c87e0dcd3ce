"""The digest: crashes and restarts per process, what is not running, jobs, sparklines."""

from __future__ import annotations

import time

from sqlalchemy import insert, update

from bot.alerts import digest, digest_render
from bot.alerts.routing import router
from bot.storage.alerts.store import DIGEST_KEY
from bot.storage.tables import job_runs, kv
from bot.supervisor.client import NodeClient
from tests.alerts.conftest import MakeEnv, start_crashing
from tests.conftest import wait_until


def test_digest_lists_crashes_restarts_stopped_processes_and_failed_jobs(
    alert_env: MakeEnv,
) -> None:
    env = alert_env(extra_toml='digest = "0 9 * * 1-5"')
    client = NodeClient(env.sv.node())
    start_crashing(client, "crashy:crashy")
    start_crashing(client, "once:once")
    wait_until(lambda: len(env.slack.posts(top_level=True)) == 2, 15)
    wait_until(env.idle, 10)
    services = env.services()
    now = time.time()
    with services.store.connect() as db:
        failed = {"status": "failed", "trigger": "schedule", "exit_code": 2}
        db.execute(
            insert(job_runs).values(job="backup", started=now - 60, ended=now - 50, **failed)
        )
    schedule = digest.DigestSchedule(services)
    assert not schedule.due()  # first start: the next slot, not now
    with services.store.connect() as db:
        db.execute(update(kv).where(kv.c.key == DIGEST_KEY).values(value=repr(now - 3 * 86400)))
    assert schedule.due()
    assert schedule.run() and not schedule.run()  # one digest per slot, even if asked twice
    wait_until(lambda: any("supbot digest" in c.body["text"] for c in env.slack.posts()), 10)
    (post,) = [c for c in env.slack.posts() if "supbot digest" in c.body["text"]]
    text = post.text()
    assert "*crashy@local* — 1 crashes, 1 starts" in text
    assert "*once@local* — 1 crashes, 2 starts" in text
    assert "crashy@local EXITED" in text and "failing@local STOPPED" in text
    assert "backup: 1 failed" in text
    crashy_line = next(line for line in text.split("\\n") if "*crashy@local*" in line)
    spark = crashy_line.split("`")[1]
    assert len(spark) == digest_render.BUCKETS  # seconds of downtime in 3 days: full bars
    services.close()


def test_sparkline_shows_downtime_in_its_bucket() -> None:
    line = digest_render.sparkline([(50.0, 100.0)], 0.0, 100.0)
    assert len(line) == digest_render.BUCKETS
    assert set(line[:11]) == {"█"} and set(line[13:]) == {"▁"}


def test_router_prefers_the_binding_alerts_channel(tmp_path: object) -> None:
    from pathlib import Path

    from tests.conftest import make_settings

    toml = """
[storage]
dir = "state"
[[nodes]]
name = "local"
url = "unix:///tmp/x.sock"
[alerts]
channel = "C0ALL"
[[channels]]
id = "C0WEB"
programs = ["web", "api:*"]
alerts_channel = "C0WEBALERTS"
"""
    route = router(make_settings(Path(str(tmp_path)), toml))
    assert route("local", "web:web") == "C0WEBALERTS"
    assert route("local", "api:api_01") == "C0WEBALERTS"
    assert route("local", "worker:worker_00") == "C0ALL"
    assert route("local", "*") == "C0ALL"
