"""The alerts worker keeps its options across a config reload (SIGHUP in serve)."""

from __future__ import annotations

from bot.alerts.service import AlertsWorker
from bot.storage.alerts.store import AlertStore
from tests.alerts.conftest import MakeEnv, start_crashing
from tests.conftest import wait_until


def test_a_worker_that_does_not_send_still_does_not_send_after_a_reload(
    alert_env: MakeEnv,
) -> None:
    env = alert_env(listener=False)
    services = env.services()
    worker = AlertsWorker(services, watch=False, deliver=False).start()
    reloaded = env.services()
    try:
        worker.restart_with(reloaded)  # what serve's SIGHUP does
        watcher = worker.watchers["local"]
        watcher.poll_once()  # first sight of every process
        start_crashing(reloaded.fleet.client("local"), "crashy")
        alerts = AlertStore(env.store())
        wait_until(
            lambda: watcher.poll_once() and alerts.has_open_incident("local", "crashy:crashy"), 20
        )
        assert alerts.backlog() == 1  # queued for a process that sends, not sent from here
        assert env.slack.posts() == []
    finally:
        worker.stop()
        services.close()
        reloaded.close()
