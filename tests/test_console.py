"""The console, driven through its input: the /sup grammar, numbered choices, confirm steps."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator

import pytest

from bot.console import BANNER, Console
from bot.embedded import EmbeddedSupervisor
from bot.services import Runtime
from bot.supervisor.client import NodeClient
from tests.conftest import basic_toml, start_sample


@pytest.fixture(scope="module")
def sv() -> Iterator[EmbeddedSupervisor]:
    sup = start_sample()
    yield sup
    sup.stop()


@pytest.fixture(scope="module")
def runtime(sv: EmbeddedSupervisor, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    path = tmp_path_factory.mktemp("cfg") / "supbot.toml"
    path.write_text(basic_toml(sv))  # console user U0ADMIN in C0OPS; web is critical
    rt = Runtime(str(path))
    yield rt
    rt.services.close()


def converse(runtime: Runtime, script: str) -> str:
    out = io.StringIO()
    assert Console(runtime, io.StringIO(script), out).run() == 0
    return out.getvalue()


def state(sv: EmbeddedSupervisor, name: str) -> str:
    return NodeClient(sv.node()).process(name).state


def test_status_shows_a_table_and_numbered_choices(runtime: Runtime) -> None:
    out = converse(runtime, "status\nquit\n")
    assert out.startswith(BANNER)
    assert "sup> status" in out
    table = out.split("sup> status", 1)[1]
    for name in ("web", "worker:worker_00", "worker:worker_01", "broken", "idle"):
        assert re.search(rf"^{re.escape(name)}\s", table, re.M), name
    assert re.search(r"\[\d+\] Start idle", out) and re.search(r"\[\d+\] Restart web", out)
    assert "total ·" in out


def test_a_number_clicks_the_choice(runtime: Runtime, sv: EmbeddedSupervisor) -> None:
    out = converse(runtime, "info idle\n1\nquit\n")
    assert "[1] Start idle@local" in out
    assert "> start idle@local" in out
    assert "Started by U0ADMIN" in out and "idle@local: ok — RUNNING, pid" in out
    assert state(sv, "idle:idle") == "RUNNING"
    out = converse(runtime, "stop idle\nquit\n")
    assert "idle@local: ok — STOPPED" in out


def test_a_group_action_asks_first_and_confirm_runs_it(
    runtime: Runtime, sv: EmbeddedSupervisor
) -> None:
    pids = {p.name: p.pid for p in NodeClient(sv.node()).all_processes() if p.group == "worker"}
    out = converse(runtime, "restart worker\n1\nquit\n")
    assert "Restart 2 processes?\n  - worker:worker_00\n  - worker:worker_01" in out
    assert "[1] Confirm  [2] Cancel" in out
    assert "> restart worker --yes" in out
    assert "worker:worker_00@local: ok — RUNNING" in out
    after = {p.name: p.pid for p in NodeClient(sv.node()).all_processes() if p.group == "worker"}
    assert all(after[n] != pids[n] for n in pids)


def test_cancel_changes_nothing(runtime: Runtime, sv: EmbeddedSupervisor) -> None:
    pids = {p.name: p.pid for p in NodeClient(sv.node()).all_processes()}
    out = converse(runtime, "stop worker:*\n2\nquit\n")
    assert "Stop 2 processes?" in out and "Cancelled; nothing was changed." in out
    assert {p.name: p.pid for p in NodeClient(sv.node()).all_processes()} == pids


def test_a_critical_process_asks_first(runtime: Runtime) -> None:
    out = converse(runtime, "restart web\n2\nquit\n")
    assert "Restart 1 critical process?\n  - web" in out


def test_unknown_command_suggests_the_nearest(runtime: Runtime) -> None:
    out = converse(runtime, "stauts\nquit\n")
    assert "Unknown subcommand `stauts`. Did you mean `status`" in out


def test_bad_input_gets_one_sentence(runtime: Runtime) -> None:
    out = converse(runtime, "tail web -5\ntail web 5000\ninfo nothing\ntail web lots\n9\nquit\n")
    assert "Line count must be between 1 and 1000, got -5." in out
    assert "Line count must be between 1 and 1000, got 5000." in out
    assert "No process matches `nothing`." in out
    assert "`lots` is not a line count; use a number like 50." in out
    assert "No choice 9 on the last answer" in out
    assert "Traceback" not in out


def test_tail_and_help_and_reload(runtime: Runtime) -> None:
    out = converse(runtime, "/sup tail web 3\nhelp\nreload\nquit\n")
    assert "== web@local stdout, last 3 lines ==" in out
    assert "status [pattern|@node]" in out
    assert "No changes: the configuration on disk matches what is running." in out


def test_quit_ends_the_conversation_and_later_lines_are_not_run(runtime: Runtime) -> None:
    out = converse(runtime, "quit\nstatus\n")
    assert out.strip() == BANNER
    assert converse(runtime, "") == BANNER + "\n"  # end of input also ends it


def test_a_restart_choice_asks_once_and_runs_on_yes(
    runtime: Runtime, sv: EmbeddedSupervisor
) -> None:
    before = NodeClient(sv.node()).process("web:web").pid
    out = converse(runtime, "info web\n1\ny\nquit\n")
    assert "[1] Restart web@local" in out
    assert "Restart web@local? [y/N] y" in out
    assert "critical process?" not in out
    assert "web@local: ok — RUNNING" in out
    assert NodeClient(sv.node()).process("web:web").pid != before


def test_a_restart_choice_answered_no_changes_nothing(
    runtime: Runtime, sv: EmbeddedSupervisor
) -> None:
    before = NodeClient(sv.node()).process("web:web").pid
    out = converse(runtime, "info web\n1\nn\nquit\n")
    assert "Cancelled; nothing was changed." in out
    assert NodeClient(sv.node()).process("web:web").pid == before
