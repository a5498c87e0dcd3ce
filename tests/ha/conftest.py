"""HA fixtures: `supbot serve --http` replicas (real processes) on one PostgreSQL state,
watching one real supervisord, posting to one FakeSlack."""

from __future__ import annotations

import json
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import pytest

from bot.embedded import EmbeddedSupervisor
from bot.state import Store
from bot.storage.alerts.store import AlertStore
from tests.conftest import free_port, short_tmp, storage_settings, storage_toml, wait_until
from tests.fakes.slack import FakeSlack
from tests.slack.harness import SECRET, serve, signed_headers, slack_env, slash_body

# 20 programs, each crashing CRASHES times, a second or so apart, then staying up: a storm
# of 100 crashes spread over several seconds (cheap shell, no interpreter per crash).
CRASHES = 5
STORM = """
[program:storm]
command=/bin/sh -c 'f={root}/c%(process_num)02d; n=$(( $(cat $f 2>/dev/null || echo 0) + 1 )); echo $n > $f; if [ $n -gt {crashes} ]; then exec sleep 100000; fi; sleep 1; exit 1'
process_name=storm_%(process_num)02d
numprocs=20
autostart=false
autorestart=unexpected
startsecs=0

[program:steady]
command=/bin/sh -c "exec sleep 100000"
startsecs=0
"""


@dataclass
class Replica:
    """One `supbot serve --http` process; its stderr in `log`."""

    proc: subprocess.Popen[str]
    port: int
    log: Path
    _log_file: IO[str] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def readyz(self) -> dict[str, Any]:
        """/readyz's JSON (200 or 503); {} while it does not answer."""
        try:
            with urllib.request.urlopen(self.base + "/readyz", timeout=5) as response:
                return dict(json.load(response))
        except urllib.error.HTTPError as error:
            return dict(json.load(error))
        except OSError:
            return {}

    def leads(self) -> list[str]:
        return list(self.readyz().get("leads", []))

    def slash(self, fake: FakeSlack, text: str) -> tuple[int, str]:
        """A signed /sup command; (HTTP status or 0 when refused at connect, response_url)."""
        url = fake.response_url()
        body = slash_body(text, "U0OPER", "C0ALERT", url)
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            **signed_headers(body, SECRET),
        }
        request = urllib.request.Request(self.base + "/slack/events", body.encode(), headers)
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                return int(response.status), url
        except urllib.error.HTTPError as error:
            return error.code, url
        except OSError:  # connection refused or reset: a balancer tries the next replica
            return 0, url

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """SIGTERM, as a rolling restart does; waits for the process to end."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self._log_file is not None:
            self._log_file.close()

    def stderr(self) -> str:
        return self.log.read_text(errors="replace")


@dataclass
class HaEnv:
    sv: EmbeddedSupervisor
    slack: FakeSlack
    root: Path
    store: Store
    replicas: list[Replica] = field(default_factory=list)

    def start_replica(self, port: int | None = None) -> Replica:
        """A new replica (on `port`, e.g. the one a stopped replica had), once it is ready."""
        port = port or free_port()
        log_path = self.root / f"serve-{port}-{len(self.replicas)}.log"
        log = log_path.open("w")
        proc = serve(
            self.root,
            slack_env(self.slack),
            "--http",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            log=log,
        )
        replica = Replica(proc, port, log_path, log)
        self.replicas.append(replica)
        wait_until(lambda: replica.readyz().get("ok") is True, 40, 0.1)
        return replica

    def leader(self, among: list[Replica]) -> Replica | None:
        leading = [r for r in among if r.leads()]
        assert len(leading) <= 1, "two replicas lead at once"
        return leading[0] if leading else None

    def idle(self) -> bool:
        """Every recorded event handled and every outbox row sent."""
        alerts = AlertStore(self.store)
        return alerts.pending_events() == 0 and alerts.backlog() == 0


def ha_toml(sv: EmbeddedSupervisor, storage: str) -> str:
    return f"""
{storage}
[[nodes]]
name = "local"
url = "{sv.url}"
timeout = "3s"

[alerts]
channel = "C0ALERT"

[[channels]]
id = "C0ALERT"
programs = ["*"]
viewers = ["*"]
operators = ["U0OPER"]
"""


MakeHa = Callable[[], HaEnv]


@pytest.fixture
def ha_env(request: pytest.FixtureRequest) -> Iterator[MakeHa]:
    """`ha_env()`: supervisord with the storm programs (not started), a FakeSlack and a fresh
    PostgreSQL database; start replicas with `start_replica()`."""
    made: list[HaEnv] = []

    def make() -> HaEnv:
        root = short_tmp()
        programs = STORM.replace("{root}", str(root)).replace("{crashes}", str(CRASHES))
        sv = EmbeddedSupervisor(root / "sv", programs)
        settings = storage_settings("postgresql", root, request)
        (root / "supbot.toml").write_text(ha_toml(sv, storage_toml(settings)))
        env = HaEnv(sv, FakeSlack().start(), root, Store(settings))
        made.append(env)
        sv.start()
        return env

    yield make
    for env in made:
        for replica in env.replicas:
            if replica.proc.poll() is None:
                replica.proc.kill()
            replica.stop()
        env.sv.stop()
        env.slack.stop()
        env.store.close()


def storm_runs(root: Path) -> tuple[int, int]:
    """(crashing runs started so far, programs done crashing), from the programs' counters."""
    runs = [int(p.read_text() or 0) for p in root.glob("c[0-9][0-9]")]
    return sum(min(n, CRASHES) for n in runs), sum(n > CRASHES for n in runs)
