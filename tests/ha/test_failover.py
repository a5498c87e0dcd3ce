"""Chaos: two `serve` replicas on one PostgreSQL state, a storm of 100 crashes across 20
programs, the leader killed with SIGKILL in the middle while Slack answers 503 for 10 s."""

from __future__ import annotations

import json
import threading
import time

import pytest
from sqlalchemy import func, select

from bot.cli import main
from bot.runs.alive import HOST
from bot.storage.tables import alert_incidents, alert_outbox, alert_rollups
from bot.supervisor.client import NodeClient
from tests.conftest import wait_until
from tests.ha.conftest import CRASHES, HaEnv, MakeHa, storm_runs

OUTAGE = 10.0
FAILOVER = 10.0  # the promise: another replica leads within this after a kill -9


def test_killing_the_leader_mid_storm_in_a_slack_outage_loses_and_duplicates_nothing(
    ha_env: MakeHa, capsys: pytest.CaptureFixture[str]
) -> None:
    env = ha_env()
    one, two = env.start_replica(), env.start_replica()
    wait_until(lambda: env.leader([one, two]) is not None, 15, 0.1)
    leader = env.leader([one, two])
    assert leader is not None and "alerts-watch-local" in leader.leads()
    survivor = two if leader is one else one
    assert survivor.leads() == []

    client = NodeClient(env.sv.node(timeout=30))
    env.slack.outage(503)
    recovery = threading.Timer(OUTAGE, env.slack.recover)
    recovery.start()
    try:
        client.call("startProcessGroup", "storm", False)
        wait_until(lambda: storm_runs(env.root)[0] >= 40, 30, 0.02)  # mid-storm
        leader.kill9()
        killed = time.monotonic()
        wait_until(lambda: "alerts-watch-local" in survivor.leads(), FAILOVER, 0.1)
        took_over = time.monotonic() - killed
        assert survivor.readyz()["leases"]["alerts-leader"]["mine"] is True
        wait_until(lambda: storm_runs(env.root)[1] == 20, 40)  # every program done crashing
        assert storm_runs(env.root)[0] == 20 * CRASHES
    finally:
        recovery.join()

    wait_until(lambda: env.idle() and env.slack.crashes_shown() >= 20 * CRASHES, 60, 0.2)
    assert env.slack.crashes_shown() == 20 * CRASHES  # nothing counted twice either
    with env.store.connect() as db:
        counted = dict(
            db.execute(
                select(alert_incidents.c.process, alert_incidents.c.crashes).where(
                    alert_incidents.c.process.like("storm:%")
                )
            ).all()
        )
        posted = (
            db.execute(select(func.count()).where(alert_incidents.c.ts.is_not(None))).scalar_one()
            + db.execute(select(func.count()).where(alert_rollups.c.ts.is_not(None))).scalar_one()
        )
        failed = db.execute(
            select(func.count()).where(alert_outbox.c.status != "sent")
        ).scalar_one()
    # every crash counted in its own incident: one incident per program, 5 crashes each
    assert counted == {f"storm:storm_{i:02d}": CRASHES for i in range(20)}, counted
    # one top-level message per incident or roll-up that has one: none posted twice
    top_level = env.slack.posts("C0ALERT", top_level=True)
    assert len(top_level) == posted, [c.text()[:120] for c in top_level]
    assert failed == 0  # every alert delivered once Slack was back
    assert took_over < FAILOVER
    assert "Traceback" not in survivor.stderr()
    print(f"\nfailover: the survivor led {took_over:.1f} s after the kill")
    _self_status_names_the_survivor(env, survivor.proc.pid, leader.proc.pid, capsys)


def _self_status_names_the_survivor(
    env: HaEnv, survivor: int, killed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """`supbot status --self` and /readyz, as an operator would check after the failover."""
    config = str(env.root / "supbot.toml")
    capsys.readouterr()
    assert main(["--config", config, "status", "--self", "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    replicas = {b["pid"]: b for b in found["beats"] if b["kind"] == "replica"}
    assert (
        replicas[survivor]["alive"] and "leads alerts-watch-local" in replicas[survivor]["detail"]
    )
    assert not replicas[killed]["alive"]  # its heartbeat's lease ran out
    (lease,) = [lease for lease in found["leases"] if lease["name"] == "alerts-leader"]
    assert lease["holder"] == f"{HOST}:{survivor}" and lease["expires_in"] > 0
    assert main(["--config", config, "status", "--self"]) == 0
    text = capsys.readouterr().out
    assert "alerts-leader" in text and f"serve:{HOST}:{survivor}" in text and "gone" in text
