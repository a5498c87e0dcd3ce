"""Allow-listed commands: argv only, arguments checked before anything runs, streamed output."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import errors
from bot.cli import main
from bot.commands.service import UnknownCommand
from bot.replies import MessageReply
from bot.runs.execute import ProgramMissing
from tests.scheduler.conftest import PY, admin, build, command, marker_command, operator

LISTING = """
import json, sys
if sys.argv[1:2] == ["list"]:
    print(json.dumps({"commands": [
        {"name": "cache:clear", "description": "Flush the cache"},
        {"name": "migrate", "description": "Run migrations"},
        {"name": "cache:secret", "hidden": True},
    ]}))
else:
    print("ran " + sys.argv[1])
"""


@pytest.mark.parametrize(
    "text",
    [
        "run mark 5; rm -rf /tmp/x",
        "run mark '5; rm -rf /tmp/x'",
        "run mark '$(id)'",
        "run mark '`id`'",
        "run mark 5 | cat",
        "run mark 'a\nb'",
    ],
)
def test_injection_attempts_are_refused_before_anything_runs(tmp_path: Path, text: str) -> None:
    marker = tmp_path / "marker"
    svc = build(tmp_path, marker_command(marker))
    reply = svc.dispatcher.run_text(operator(svc), text)
    assert isinstance(reply, MessageReply) and reply.error and "refused" in reply.text
    assert not marker.exists()
    assert [e.outcome for e in svc.audit.since(60)] == ["refused"]


def test_arguments_must_fully_match_the_declared_pattern(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    svc = build(tmp_path, marker_command(marker, "'^[0-9]+$'"))
    with pytest.raises(errors.UsageError, match="accepts"):
        svc.commands.run(operator(svc), "mark", ["12a"])
    assert not marker.exists()
    result = svc.commands.run(operator(svc), "mark", ["12", "34"])
    assert result.ok and marker.read_text() == "12 34|"  # each arg passed as its own argv word


def test_a_command_without_an_args_pattern_takes_no_arguments(tmp_path: Path) -> None:
    svc = build(tmp_path, command("plain", "print(1)"))
    with pytest.raises(errors.UsageError, match="takes no arguments"):
        svc.commands.run(admin(), "plain", ["x"])


def test_unlisted_command_is_refused_with_the_ones_the_asker_may_run(tmp_path: Path) -> None:
    svc = build(tmp_path, marker_command(tmp_path / "m"))
    reply = svc.dispatcher.run_text(operator(svc), "run rm -rf /")
    assert isinstance(reply, MessageReply) and reply.error
    assert "No command `rm` here" in reply.text and "`mark`" in reply.text
    viewer = operator(svc, "C0OPS", "U0VIEWER")
    with pytest.raises(errors.Forbidden):
        svc.commands.run(viewer, "mark", [])
    with pytest.raises(UnknownCommand, match="may not run any commands"):
        svc.commands.run(viewer, "nope", [])


def test_a_program_missing_on_disk_gives_a_clear_error(tmp_path: Path) -> None:
    extra = '\n[[commands]]\nname = "tool"\ncommand = ["/nonexistent/bin/tool", "x"]\n'
    svc = build(tmp_path, extra)
    with pytest.raises(ProgramMissing, match="does not exist"):
        svc.commands.run(admin(), "tool", [])
    reply = svc.dispatcher.run_text(operator(svc), "run tool")
    assert isinstance(reply, MessageReply) and "`tool` cannot run" in reply.text


def test_output_is_streamed_while_running_and_timeout_kills(tmp_path: Path) -> None:
    code = 'import time; print("first", flush=True); time.sleep(1.5); print("second")'
    extra = command("stream", code) + command("hang", "import time; time.sleep(30)", timeout='"1s"')
    svc = build(tmp_path, extra)
    seen: list[str] = []
    result = svc.commands.run(admin(), "stream", [], seen.append, interval=0.3)
    assert result.ok and result.output == "first\nsecond"
    assert any("first" in s and "second" not in s for s in seen)
    hung = svc.commands.run(admin(), "hang", [])
    assert not hung.ok and "timed out after 1s" in hung.error and hung.duration < 10


def test_discovered_commands_match_allow_globs_and_fall_back_when_discovery_fails(
    tmp_path: Path,
) -> None:
    script = tmp_path / "artisan.py"
    script.write_text(LISTING)
    source = f"""
[[command_sources]]
name = "artisan"
command = ["{PY}", "{script}", "list", "--format=json"]
allow = ["cache:*"]
"""
    svc = build(tmp_path, source + command("hello", "print(1)"))
    names = [c.name for c in svc.commands.list_commands(admin())]
    assert names == ["hello", "cache:clear"]
    result = svc.commands.run(admin(), "cache:clear", [])
    assert result.ok and result.output == "ran cache:clear"
    broken = tmp_path / "broken"
    broken.mkdir()
    failing = source.replace(str(script), str(tmp_path / "missing.py"))
    svc = build(broken, failing + command("hello", "print(1)"))
    assert [c.name for c in svc.commands.list_commands(admin())] == ["hello"]
    assert svc.commands.discovery_errors


def test_cli_run_prints_the_exit_code_and_exits_0_only_on_success(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    extra = command("good", 'print("fine")') + command("bad", "raise SystemExit(3)")
    build(tmp_path, extra)
    config = str(tmp_path / "supbot.toml")
    assert main(["--config", config, "run", "good"]) == 0
    assert "exit code 0" in capsys.readouterr().out
    assert main(["--config", config, "run", "bad"]) == 1
    assert "exit code 3" in capsys.readouterr().out
    assert main(["--config", config, "run", "good", ";", "id"]) == 2


def test_cli_jobs_json_and_commands(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    secret = 'env = { DB_PASSWORD = "s3cret-value" }\n'
    extra = command("good", 'print("fine")') + secret
    extra += f'\n[[jobs]]\nname = "nightly"\nschedule = "0 3 * * *"\ncommand = ["{PY}"]\n'
    build(tmp_path, extra + secret)
    config = str(tmp_path / "supbot.toml")
    assert main(["--config", config, "jobs", "--json"]) == 0
    out = capsys.readouterr().out
    data = json.loads(out)
    assert data["jobs"][0]["job"]["name"] == "nightly" and len(data["jobs"][0]["next_runs"]) == 3
    assert main(["--config", config, "commands", "--json"]) == 0
    out += capsys.readouterr().out
    assert '"good"' in out and "DB_PASSWORD" in out and "s3cret-value" not in out
