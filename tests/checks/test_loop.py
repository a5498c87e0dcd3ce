"""[[checks]] against real programs: a memory hog is alerted on and restarted once, then
recovers; a web server whose health endpoint fails is alerted on after `fail_after` probes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.alerts import events
from bot.alerts.incidents import IncidentEngine
from bot.alerts.records import Incident, ProcessEvent
from bot.alerts.routing import router
from bot.checks.loop import ChecksLoop
from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from bot.storage.alerts.store import AlertStore
from tests.conftest import (
    PY,
    basic_toml,
    free_port,
    make_settings,
    short_tmp,
    start_sample,
    wait_until,
)

# `hog` grows to ~120 MB on its first run only (it leaves `flag` behind), then idles.
PROGRAMS = """
[program:hog]
command={py} -u -c "import os,time;first=not os.path.exists('{flag}');open('{flag}','a').close();b=[bytearray(8*2**20) for i in range(15 if first else 0)];print('hog', len(b), flush=True);time.sleep(100000)"
startsecs=0
stopwaitsecs=2

[program:site]
command={py} -m http.server {port} --bind 127.0.0.1 --directory {site}
startsecs=0
stopwaitsecs=2
"""

CHECKS = """
[alerts]
channel = "C0ALERTS"

[[checks]]
name = "hog-memory"
programs = ["hog"]
memory_max = "60MiB"
action = "restart"

[[checks]]
name = "site-health"
programs = ["site"]
http = "http://127.0.0.1:{port}/health"
timeout = "2s"
fail_after = 3
"""


@pytest.fixture(scope="module")
def site() -> Path:
    """The directory `site` serves; its `health` file is the health endpoint."""
    path = short_tmp()
    (path / "health").write_text("ok")
    return path


@pytest.fixture(scope="module")
def port() -> int:
    return free_port()


@pytest.fixture(scope="module")
def sv(site: Path, port: int) -> Iterator[EmbeddedSupervisor]:
    programs = PROGRAMS.format(py=PY, flag=site / "hog-ran-once", port=port, site=site)
    sup = start_sample(programs, running=2)
    yield sup
    sup.stop()


@pytest.fixture(scope="module")
def env(
    sv: EmbeddedSupervisor, port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("checks")
    services = Services.build(make_settings(tmp, basic_toml(sv, CHECKS.format(port=port))))
    alerts = AlertStore(services.store)
    alerts.store.ensure()
    yield Env(services, alerts)
    services.close()


class Env:
    def __init__(self, services: Services, alerts: AlertStore) -> None:
        self.services, self.alerts = services, alerts
        self.loop = ChecksLoop(services, alerts, threading.Event())
        self.engine = IncidentEngine(alerts, router(services.settings))

    def round(self) -> list[Incident]:
        """One round of the checks, then the incident engine; the incidents open after it."""
        self.loop.poll_once()
        self.engine.process_pending()
        return self.alerts.open_incidents()

    def incidents(self, process: str) -> list[Incident]:
        return [i for i in self.round() if i.process == process]


def test_memory_hog_is_alerted_once_restarted_once_then_recovers(env: Env) -> None:
    found: list[Incident] = []
    wait_until(lambda: found.extend(env.incidents("hog:hog")) or found, 30, 0.5)
    (incident,) = found  # the round that opened it also restarted the hog
    assert incident.state == "UNHEALTHY" and "hog-memory: RSS" in incident.from_state
    assert "> 60.0 MiB" in incident.from_state
    restarts = [e for e in env.services.audit.since() if e.actor == "check:hog-memory"]
    assert [(e.action, e.target, e.outcome) for e in restarts] == [("restart", "hog@local", "ok")]
    # The restart's own STOPPED and RUNNING (from a watcher) do not close the check's incident.
    for state in ("STOPPED", "RUNNING"):
        events.record(env.alerts, ProcessEvent("local", "hog:hog", state, "watcher", stop=1.0))
    env.engine.process_pending()
    assert env.alerts.incident(incident.id).status == "open"
    wait_until(lambda: not env.incidents("hog:hog"), 30, 0.5)  # small now: HEALTHY closes it
    closed = env.alerts.incident(incident.id)
    assert closed.status == "recovered"
    assert len([e for e in env.services.audit.since() if e.actor == "check:hog-memory"]) == 1


def test_failing_health_endpoint_alerts_after_fail_after_probes(env: Env, site: Path) -> None:
    for _ in range(3):
        assert env.incidents("site:site") == []  # healthy: nothing
    (site / "health").unlink()
    assert env.incidents("site:site") == [] and env.incidents("site:site") == []  # 2 failures
    (incident,) = env.incidents("site:site")  # the third
    assert incident.state == "UNHEALTHY"
    assert "site-health: HTTP 404 from http://127.0.0.1" in incident.from_state
    (site / "health").write_text("ok")
    assert env.incidents("site:site") == []
    assert env.alerts.incident(incident.id).status == "recovered"
