"""Self-health: a node down is an incident and so is its recovery; a silent listener is
reported; a delivery cut short by a dead process is resumed once."""

from __future__ import annotations

import os
import time

from sqlalchemy import update

from bot.alerts.outbox import Outbox
from bot.alerts.service import AlertsWorker
from bot.state import Store
from bot.storage.alerts.store import AlertStore
from bot.storage.tables import heartbeats
from tests.alerts.conftest import MakeEnv
from tests.conftest import wait_until


def test_unreachable_node_is_an_incident_and_its_return_edits_it(alert_env: MakeEnv) -> None:
    env = alert_env(listener=False, extra_toml='node_down_after = "1s"')
    services = env.services()
    worker = AlertsWorker(services, watch=False).start()
    try:
        worker.watchers["local"].poll_once()
        env.sv.stop()
        worker.watchers["local"].poll_once()  # first failure: not yet down for node_down_after
        assert env.slack.posts() == []

        def down_posted() -> bool:
            worker.watchers["local"].poll_once()
            return bool(env.slack.posts("C0ALERT"))

        wait_until(down_posted, 10, interval=0.3)
        (post,) = env.slack.posts("C0ALERT")
        assert "node local is unreachable" in post.body["text"]
        env.sv.start()
        worker.watchers["local"].poll_once()
        wait_until(lambda: env.slack.ok("chat.update"), 10)
        final = env.slack.messages()[post.ts]
        assert "reachable again" in final.body["text"]
    finally:
        worker.stop()
        services.close()


def test_a_listener_whose_heartbeat_stops_is_reported(alert_env: MakeEnv) -> None:
    env = alert_env(listener=False)
    services = env.services()
    worker = AlertsWorker(services, watch=False).start()
    try:
        services.store.heartbeat("listener:local")
        worker.housekeeping.check_listener("local")
        with services.store.connect() as db:  # its last TICK_60 was 4 minutes ago
            beat = heartbeats.c.name == "listener:local"
            db.execute(update(heartbeats).where(beat).values(seen=time.time() - 240))
        worker.housekeeping.check_listener("local")
        wait_until(lambda: env.slack.posts("C0ALERT"), 10)
        assert "listener on local has gone silent" in env.slack.posts()[0].body["text"]
        services.store.heartbeat("listener:local")
        worker.housekeeping.check_listener("local")
        wait_until(lambda: env.slack.ok("chat.update"), 10)
        assert "is back" in env.slack.ok("chat.update")[0].body["text"]
    finally:
        worker.stop()
        services.close()


def test_a_row_claimed_by_a_dead_process_is_delivered_by_the_next(state_store: Store) -> None:
    dead = f"{os.uname().nodename}:{_dead_pid()}:abc"  # a start time it cannot read: the pid says
    alerts = AlertStore(state_store)
    first = Outbox(alerts, owner=dead)
    with alerts.transaction() as tx:
        tx.enqueue("C0X", "digest", 0, {"text": "hello"})
    rows, _ = first.claim()
    assert len(rows) == 1  # the dead process claimed it, then died before sending
    alive = Outbox(alerts)
    again, _ = alive.claim()
    assert [r.id for r in again] == [rows[0].id]
    assert alive.claim()[0] == []  # and nobody else takes it while it is in flight


def _dead_pid() -> int:
    pid = os.getpid() + 100000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1
