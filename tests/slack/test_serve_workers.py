"""`supbot serve --http --workers 2`: two worker processes answer signed Slack requests on one
port; a worker that dies is replaced; SIGTERM stops them all; SIGHUP reaches every worker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import tempfile
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import psutil
import pytest

from tests.conftest import basic_toml, free_port, wait_until
from tests.fakes.slack import FakeSlack
from tests.slack.harness import post_slash, serve, slack_env

TAKEN = re.compile(r"Slack request taken by pid (\d+)")


@dataclass
class Served:
    proc: subprocess.Popen[str]
    base: str
    log: Path

    def text(self) -> str:
        return self.log.read_text()

    def workers(self) -> list[psutil.Process]:
        """The live worker processes (multiprocessing's own helper is not one)."""
        children = psutil.Process(self.proc.pid).children()
        return [c for c in children if _is_worker(c)]

    def slash(self, fake: FakeSlack, text: str, user: str = "U0OPER") -> str:
        """Send a signed /sup command; returns the response_url path its answer goes to."""
        return post_slash(self.base, fake, text, user)


def _is_worker(process: psutil.Process) -> bool:
    try:
        return "spawn_main" in " ".join(process.cmdline()) and process.is_running()
    except psutil.Error:
        return False


@pytest.fixture
def served(supervisor, tmp_path, fake_slack: FakeSlack) -> Iterator[Served]:
    (tmp_path / "supbot.toml").write_text(basic_toml(supervisor))
    port = free_port()
    with tempfile.NamedTemporaryFile("w", dir=tmp_path, suffix=".log", delete=False) as log:
        proc = serve(
            tmp_path,
            slack_env(fake_slack),
            *("--http", "--host", "127.0.0.1", "--port", str(port)),
            *("--workers", "2", "--log-level", "debug"),
            log=log,
        )
    result = Served(proc, f"http://127.0.0.1:{port}", Path(log.name))
    try:
        # both workers serving (uvicorn says so once each), not only the first one up
        ready = "Application startup complete."
        wait_until(lambda: result.text().count(ready) == 2 and _healthy(result.base), 60, 0.2)
        yield result
    finally:
        if proc.poll() is None:
            proc.kill()  # the SIGTERM test stops its own; the workers follow their parent
            proc.wait(20)


def _healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return int(response.status) == 200
    except OSError:
        return False


def test_two_workers_answer_signed_slash_commands_and_both_take_requests(
    served: Served, fake_slack: FakeSlack
):
    workers = {w.pid for w in served.workers()}

    def answered(i: int) -> None:
        path = served.slash(fake_slack, "status", user=f"U0USER{i:02d}")
        fake_slack.wait_call("response", "worker_00", 30, where=lambda c: c.path == path)

    def both_took_some() -> bool:
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(pool.map(answered, range(8)))
        return {int(pid) for pid in TAKEN.findall(served.text())} == workers

    wait_until(both_took_some, 60, 0)
    assert "Traceback" not in served.text()


def test_a_killed_worker_is_replaced_and_the_port_keeps_answering(
    served: Served, fake_slack: FakeSlack
):
    victim, other = served.workers()
    victim.kill()
    wait_until(lambda: victim.pid not in {w.pid for w in served.workers()}, 10, 0.1)
    path = served.slash(fake_slack, "status")  # the survivor answers meanwhile
    fake_slack.wait_call("response", "worker_00", 30, where=lambda c: c.path == path)
    wait_until(lambda: len(served.workers()) == 2, 30, 0.2)
    replacement = ({w.pid for w in served.workers()} - {other.pid}).pop()
    assert replacement != victim.pid
    assert "exited with signal SIGKILL; starting another" in served.text()
    assert served.proc.poll() is None


def test_sigterm_stops_the_parent_and_every_worker(served: Served):
    workers = served.workers()
    served.proc.send_signal(signal.SIGTERM)
    assert served.proc.wait(30) == 0
    gone, alive = psutil.wait_procs(workers, timeout=10)
    assert alive == []
    assert "Traceback" not in served.text()


def test_sighup_reaches_every_worker(served: Served):
    workers = {w.pid for w in served.workers()}
    os.kill(served.proc.pid, signal.SIGHUP)
    wait_until(lambda: served.text().count("configuration reloaded") >= 3, 30, 0.2)  # 2 + parent
    assert {w.pid for w in served.workers()} == workers  # reloaded in place, not restarted


def test_workers_without_http_mode_say_what_would_work(tmp_path, fake_slack: FakeSlack):
    proc = serve(tmp_path, slack_env(fake_slack), "--workers", "2")
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 2
    assert "--workers needs --http" in err and "Traceback" not in err
