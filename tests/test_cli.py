"""`supbot` subcommands as a user runs them: `python -m bot …`, --json, exit codes 0/1/2/3."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.embedded import EmbeddedSupervisor
from bot.supervisor.client import NodeClient
from tests.conftest import basic_toml, start_sample

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def sv() -> Iterator[EmbeddedSupervisor]:
    sup = start_sample()
    yield sup
    sup.stop()


@pytest.fixture(scope="module")
def config(sv: EmbeddedSupervisor, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "supbot.toml"
    path.write_text(basic_toml(sv))
    return path


def supbot(config: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SUPBOT_CONFIG": str(config)}
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=config.parent,
        timeout=60,
    )


def ok_json(config: Path, *args: str) -> object:
    proc = supbot(config, *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_status_json_lists_processes(config: Path) -> None:
    data = ok_json(config, "status")
    assert isinstance(data, dict)
    procs = {p["display_name"]: p for p in data["view"]["processes"]}
    assert {"web", "worker:worker_00", "worker:worker_01", "broken", "idle"} <= set(procs)
    assert procs["web"]["state"] == "RUNNING" and procs["web"]["pid"] > 0
    assert procs["idle"]["bucket"] == "stopped"


def test_status_text_is_a_table(config: Path) -> None:
    proc = supbot(config, "status", "worker")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == "2 total · 2 running · 0 stopped · 0 crashed"
    assert any(line.startswith("name") and "state" in line and "pid" in line for line in lines)
    assert sum(line.startswith("worker:worker_0") for line in lines) == 2


def test_info_json(config: Path) -> None:
    data = ok_json(config, "info", "web")
    assert isinstance(data, dict)
    assert data["details"]["process"]["display_name"] == "web"
    assert data["details"]["process"]["memory_rss"] > 0


def test_start_and_stop_exit_0(config: Path, sv: EmbeddedSupervisor) -> None:
    proc = supbot(config, "start", "idle")
    assert proc.returncode == 0, proc.stderr
    assert "idle@local: ok — RUNNING" in proc.stdout
    assert NodeClient(sv.node()).process("idle:idle").state == "RUNNING"
    data = ok_json(config, "stop", "idle")
    assert isinstance(data, dict)
    (outcome,) = data["report"]["outcomes"]
    assert (outcome["ok"], outcome["state"]) == (True, "STOPPED")


def test_failed_action_exits_1_with_the_reason(config: Path) -> None:
    proc = supbot(config, "start", "broken")
    assert proc.returncode == 1
    assert "broken@local: FAILED" in proc.stdout
    assert "boom: cannot connect to db" in proc.stdout


def test_restart_of_several_names_reports_each(config: Path) -> None:
    data = ok_json(config, "restart", "worker:worker_00", "worker:worker_01")
    assert isinstance(data, dict)
    outcomes = data["report"]["outcomes"]
    assert [o["process"] for o in outcomes] == ["worker:worker_00", "worker:worker_01"]
    assert all(o["ok"] and o["state"] == "RUNNING" for o in outcomes)


def test_signal_and_clear(config: Path) -> None:
    proc = supbot(config, "signal", "worker:worker_00", "USR2")
    assert proc.returncode == 0, proc.stderr
    assert "sent SIGUSR2" in proc.stdout
    assert supbot(config, "clear", "worker:worker_01").returncode == 0


def test_tail_json_and_line_limits(config: Path) -> None:
    data = ok_json(config, "tail", "web", "-n", "3", "--stderr")
    assert isinstance(data, dict)
    lines = data["tail"]["lines"]
    assert len(lines) == 3 and all(line.startswith("web err") for line in lines)
    for count in ("-5", "1001"):
        proc = supbot(config, "tail", "web", "-n", count)
        assert proc.returncode == 2
        assert f"Line count must be between 1 and 1000, got {count}." in proc.stderr
        assert "Traceback" not in proc.stderr


def test_verbs_take_the_words_of_the_sup_grammar(config: Path) -> None:
    data = ok_json(config, "tail", "web", "2")  # `/sup tail web 2`: the positional line count
    assert isinstance(data, dict) and len(data["tail"]["lines"]) == 2
    data = ok_json(config, "status", "web", "--node", "local")
    assert isinstance(data, dict)
    assert [p["display_name"] for p in data["view"]["processes"]] == ["web"]
    proc = supbot(config, "info")
    assert proc.returncode == 2 and proc.stderr.strip() == "supbot: Usage: `info <process>`"
    proc = supbot(config, "status", "--bogus")
    assert proc.returncode == 2 and "`status` has no option `--bogus`" in proc.stderr


def test_unknown_process_says_so_without_a_traceback(config: Path) -> None:
    proc = supbot(config, "info", "wbe")
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "supbot: No process matches `wbe`. Did you mean: web? Try `status` to list processes."
    )


def test_reload_dry_run_and_nodes(config: Path) -> None:
    proc = supbot(config, "reload", "--dry-run")
    assert proc.returncode == 0
    assert "No changes" in proc.stdout
    data = ok_json(config, "nodes")
    assert isinstance(data, list)
    assert data[0]["name"] == "local" and data[0]["reachable"] and data[0]["processes"] >= 5


def test_audit_lists_what_the_cli_did(config: Path) -> None:
    assert supbot(config, "clear", "web").returncode == 0
    data = ok_json(config, "audit", "--since", "1h")
    assert any(e["action"] == "clear" and e["target"] == "web@local" for e in data)
    assert isinstance(data, list) and data
    assert all(e["actor"].startswith("cli:") and e["surface"] == "cli" for e in data)


def test_unreachable_node_exits_3(tmp_path: Path) -> None:
    path = tmp_path / "supbot.toml"
    path.write_text(f'[[nodes]]\nname = "gone"\nurl = "unix://{tmp_path}/none.sock"\n')
    proc = supbot(path, "status")
    assert proc.returncode == 3
    assert f"node `gone` unreachable (socket {tmp_path}/none.sock not found" in proc.stderr
    assert supbot(path, "nodes", "--json").returncode == 3
    proc = supbot(path, "restart", "web")
    assert proc.returncode == 3 and "node `gone` unreachable" in proc.stderr


def test_usage_and_config_errors_exit_2(tmp_path: Path, config: Path) -> None:
    proc = supbot(config, "frobnicate")
    assert proc.returncode == 2 and "invalid choice" in proc.stderr
    proc = supbot(tmp_path / "missing.toml", "status")
    assert proc.returncode == 2
    assert "file not found (set SUPBOT_CONFIG or copy supbot.example.toml)" in proc.stderr
    proc = supbot(config, "audit", "--since", "yesterday")
    assert proc.returncode == 2 and "'yesterday' is not a duration" in proc.stderr
    assert supbot(config, "check-config").returncode == 0
