"""Three hosts sharing only PostgreSQL: each host's listener records crashes and samples; the
bot (serve's alert worker) turns them into Slack messages and shows remote memory in info."""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
from collections.abc import Callable

from bot import errors
from bot.alerts.service import AlertsWorker
from bot.render.text import render_text
from bot.samples import SampleReader
from bot.storage.alerts.store import AlertStore
from tests.conftest import wait_until
from tests.fleet.conftest import Fleet

MakeFleet = Callable[[int], Fleet]


def _idle(fleet: Fleet) -> bool:
    alerts = AlertStore(fleet.services.store)
    return alerts.pending_events() == 0 and alerts.backlog() == 0


def test_a_crash_on_host_3_is_one_alert_with_its_exit_status(fleet: MakeFleet) -> None:
    f = fleet(3)
    worker = AlertsWorker(f.services).start()  # as serve runs it: watching every node too
    try:
        with contextlib.suppress(errors.SpawnFailed):
            f.host("app3").client().start("crashy:crashy", wait=False)
        wait_until(lambda: f.slack.posts("C0ALERT"), 20)
        wait_until(lambda: _idle(f), 15)
        posts = f.slack.posts("C0ALERT")
        assert len(posts) == 1, f.host("app3").listener_log()
        assert "crashy@app3" in posts[0].text()

        # The exit status and log tail, read over the remote XML-RPC after the post, edit it.
        def edited() -> bool:
            text = f.slack.messages()[posts[0].ts].text()
            return "3 (unexpected)" in text and "worker lost its queue" in text

        wait_until(edited, 15)
    finally:
        worker.stop()


def test_supervisorctl_restart_on_host_2_with_its_listener_is_no_alert(fleet: MakeFleet) -> None:
    f = fleet(3)
    worker = AlertsWorker(f.services).start()
    host = f.host("app2")
    try:
        pid = host.client().process("steady:steady").pid
        restart = [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(host.sv.conf)]
        done = subprocess.run([*restart, "restart", "steady"], capture_output=True, text=True)
        assert "started" in done.stdout, done.stdout + done.stderr
        assert host.client().process("steady:steady").pid != pid
        # A crash after the restart: once it is alerted, the restart's events were handled.
        with contextlib.suppress(errors.SpawnFailed):
            host.client().start("crashy:crashy", wait=False)
        wait_until(lambda: f.slack.posts("C0ALERT"), 20)
        wait_until(lambda: _idle(f), 15)
        texts = [p.text() for p in f.slack.posts("C0ALERT")]
        assert len(texts) == 1 and "crashy@app2" in texts[0], texts
        assert not any("steady" in t for t in texts)
    finally:
        worker.stop()


def test_info_shows_memory_sampled_on_the_remote_host(fleet: MakeFleet) -> None:
    f = fleet(3)
    samples = SampleReader(f.services.store)
    wait_until(lambda: samples.process("app2", "steady:steady") is not None, 20)
    access = f.services.authorizer.for_console()
    reply = f.services.dispatcher.run_text(access, "info steady@app2")
    shown = render_text(reply)
    assert "MiB (sampled" in shown, shown
    status = render_text(f.services.dispatcher.run_text(access, "status"))
    assert (
        "app2: RSS" in status and "over 2 processes (sampled" in status
    )  # steady and the listener, status


def test_info_shows_the_restarts_the_host_listener_recorded(fleet: MakeFleet) -> None:
    f = fleet(2)
    host, samples = f.host("app2"), SampleReader(f.services.store)
    access = f.services.authorizer.for_console()
    wait_until(lambda: samples.restarts("app2", "steady:steady") is not None, 20)
    before = samples.restarts("app2", "steady:steady") or 0
    restart = [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(host.sv.conf)]
    done = subprocess.run([*restart, "restart", "steady"], capture_output=True, text=True)
    assert "started" in done.stdout, done.stdout + done.stderr
    wait_until(lambda: samples.restarts("app2", "steady:steady") == before + 1, 20)
    shown = render_text(f.services.dispatcher.run_text(access, "info steady@app2"))
    assert re.search(rf"^restarts, 24 h +{before + 1}$", shown, re.M), shown
