"""A throwaway PostgreSQL server for tests: initdb + pg_ctl in a temp dir, on a free port.

PostgreSQL refuses to run as root: as root the server runs as the `postgres` user (created by
Debian's package) in a directory it owns. Missing binaries are a failure, not a skip: CI
(.ci/run) installs them.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.conftest import free_port


def _bin_dir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if not found:
        pytest.fail(
            "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin/initdb): "
            "install them with `apt-get install -y postgresql` (.ci/run does)",
            pytrace=False,
        )
    return Path(found[-1]).parent


class PostgresServer:
    """One cluster per test session; `database()` gives each test its own database."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="sb-pg-", dir="/tmp"))
        self.port = free_port()
        self.started_in = 0.0
        self._count = 0

    def _run(self, *argv: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=60)
        if done.returncode:
            raise RuntimeError(f"{argv[0]} failed: {done.stderr.strip() or done.stdout.strip()}")

    def start(self) -> None:
        began = time.monotonic()
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres")
        data = self.root / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust")
        self.resume()
        self.started_in = time.monotonic() - began

    def resume(self) -> None:
        """Start the server on its data (again, after `pause()`), same port."""
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-w", "-l",
            str(self.root / "log"), "-o", options, "start",
        )  # fmt: skip

    def pause(self) -> None:
        """Stop the server as a crash would, keeping its data: clients find it unreachable."""
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"
        )

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def database(self) -> str:
        """A new empty database; its URL (no password: trust authentication)."""
        import psycopg

        self._count += 1
        name = f"t{os.getpid()}_{self._count}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def stop(self) -> None:
        try:
            if (self.root / "data" / "postmaster.pid").exists():
                self.pause()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)
