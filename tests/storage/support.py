"""What several storage tests share: running `supbot` as a user does, a config file, the frozen
supbot 0.1 state, an engine on a test database's URL."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from bot.storage.engine import DRIVER

ROOT = Path(__file__).resolve().parents[2]
NODES = '[[nodes]]\nname = "l"\nurl = "unix:///nonexistent.sock"\n'
# A state written by supbot 0.1 (before migrations: no alembic_version), with rows in it.
DUMP_0_1 = Path(__file__).resolve().parent / "data" / "supbot-0.1-state.sql"


def write_config(tmp: Path, storage: str) -> Path:
    path = tmp / "supbot.toml"
    path.write_text(f"[storage]\n{storage}\n{NODES}")
    return path


def command(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "bot", "--config", str(config), *args]


def supbot(
    config: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command(config, *args),
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )


def load_0_1_state(path: Path) -> Path:
    """The frozen supbot 0.1 state as the SQLite file `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    try:
        db.executescript(DUMP_0_1.read_text())
    finally:
        db.close()
    return path


def pg_engine(url: str) -> sa.Engine:
    return sa.create_engine(url.replace("postgresql://", f"{DRIVER}://", 1))
