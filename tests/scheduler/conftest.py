"""Scheduler fixtures: real job processes, a real runner subprocess, one shared state dir."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.auth import Access, Authorizer
from bot.config import Settings, StorageSettings
from bot.services import Services
from tests.conftest import make_settings, storage_toml, wait_until

PY = sys.executable
ROOT = Path(__file__).resolve().parents[2]

BASE = """
timezone = "Europe/Paris"

[storage]
dir = "state"

[[nodes]]
name = "local"
url = "unix:///nonexistent/supervisor.sock"

[[channels]]
id = "C0OPS"
jobs = ["*"]
commands = ["*"]
viewers = ["*"]
operators = ["U0OPER"]

[[channels]]
id = "C0WEB"
programs = ["web"]
viewers = ["*"]
operators = ["U0WEBOP"]
"""


def py(code: str) -> str:
    """A TOML argv list running `code` with this interpreter (literal strings: no escapes)."""
    return f"['{PY}', '-u', '-c', '{code}']"


def job(name: str, schedule: str, code: str, **keys: str) -> str:
    extra = "".join(f"{k} = {v}\n" for k, v in keys.items())
    return f'\n[[jobs]]\nname = "{name}"\nschedule = "{schedule}"\ncommand = {py(code)}\n{extra}'


def settings_for(tmp: Path, extra: str, storage: StorageSettings | None = None) -> Settings:
    """Settings (and tmp/supbot.toml) for `extra`; the state in tmp/state, or `storage`."""
    base = BASE
    if storage is not None:
        base = base.replace('[storage]\ndir = "state"\n', storage_toml(storage))
    return make_settings(tmp, base + extra)


def build(tmp: Path, extra: str, storage: StorageSettings | None = None) -> Services:
    return Services.build(settings_for(tmp, extra, storage))


def operator(services: Services, channel: str = "C0OPS", user: str = "U0OPER") -> Access:
    return services.authorizer.for_channel(user, channel, "slash")


def admin() -> Access:
    return Authorizer.local_admin("tester")


class RunnerProcess:
    """`supbot scheduler` as a real subprocess on the test's config."""

    def __init__(self, config: Path, stop_grace: str = "1s") -> None:
        self.config, self.stop_grace = config, stop_grace
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, services: Services) -> RunnerProcess:
        env = {k: v for k, v in os.environ.items() if k != "SUPBOT_CONFIG"}
        self.proc = subprocess.Popen(
            [PY, "-m", "bot", "--config", str(self.config), "scheduler"]
            + ["--stop-grace", self.stop_grace],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(self.config.parent / "runner.log", "ab"),  # noqa: SIM115
        )
        pid = self.proc.pid
        wait_until(
            lambda: services.jobs.runner_status().live and services.jobs.runner_status().pid == pid,
            15,
        )
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def stop(self, sig: int = signal.SIGTERM, wait: float = 20) -> int | None:
        if self.proc is None or self.proc.poll() is not None:
            return None if self.proc is None else self.proc.returncode
        self.proc.send_signal(sig)
        return self.proc.wait(wait)


@pytest.fixture
def runner_factory(tmp_path: Path) -> Iterator[Callable[..., RunnerProcess]]:
    started: list[RunnerProcess] = []

    def make(stop_grace: str = "1s") -> RunnerProcess:
        r = RunnerProcess(tmp_path / "supbot.toml", stop_grace)
        started.append(r)
        return r

    yield make
    for r in started:
        r.stop(signal.SIGKILL)


def pid_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    import psutil

    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def read_pid(path: Path, seconds: float = 10) -> int:
    wait_until(lambda: path.exists() and path.read_text().strip(), seconds)
    return int(path.read_text().strip())


def until(predicate: Callable[[], object], seconds: float = 10) -> None:
    wait_until(predicate, seconds)


def now() -> float:
    return time.time()


NEVER = "0 3 1 1 *"  # a schedule that does not interfere: only run-now starts these


def command(name: str, code: str, **keys: str) -> str:
    extra = "".join(f"{k} = {v}\n" for k, v in keys.items())
    return f'\n[[commands]]\nname = "{name}"\ncommand = {py(code)}\n{extra}'


def marker_command(marker: Path, args: str = "'.*'") -> str:
    code = f'import sys; open("{marker}", "a").write(" ".join(sys.argv[1:]) + "|")'
    return command("mark", code, args=args, description='"Writes a marker"')


def wait_loop(flag: Path) -> str:
    return f'[time.sleep(0.05) for _ in iter(lambda: os.path.exists("{flag}"), True)]'
