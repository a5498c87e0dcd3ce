"""A command is on record before it runs: attempt first, outcome after, no record → no run;
arguments that are not plain text are refused; whatever stops the OS from starting it is one
clear sentence."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import errors
from bot.audit import AuditUnavailable
from bot.cli import main
from bot.replies import MessageReply
from bot.runs.execute import ProgramMissing
from tests.conftest import break_audit
from tests.scheduler.conftest import admin, build, command, job, marker_command, operator


def test_the_attempt_is_on_record_while_the_command_runs_and_completed_after(
    tmp_path: Path,
) -> None:
    code = 'import time; print("working", flush=True); time.sleep(1)'
    svc = build(tmp_path, command("slow", code))
    during: list[list[tuple[str, str]]] = []

    def watch(_tail: str) -> None:
        during.append([(e.target, e.outcome) for e in svc.audit.since(60)])

    result = svc.commands.run(admin(), "slow", [], watch, interval=0.2)
    assert result.ok
    assert during and during[0] == [("slow", "started")]
    entries = svc.audit.since(60)
    assert [(e.target, e.outcome) for e in entries] == [("slow", "ok")]  # one row, completed
    assert entries[0].duration > 0.5


def test_when_the_attempt_cannot_be_recorded_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    svc = build(tmp_path, marker_command(marker))
    break_audit(svc)
    with pytest.raises(AuditUnavailable, match="Not done: the audit log could not record it"):
        svc.commands.run(operator(svc), "mark", ["1"])
    reply = svc.dispatcher.run_text(operator(svc), "run mark 2")
    assert isinstance(reply, MessageReply) and reply.error
    assert "database or disk is full" in reply.text and "Nothing was changed" in reply.text
    assert not marker.exists()


@pytest.mark.parametrize(
    ("arg", "shown"),
    [
        ("\ud800", "\\ud800"),  # a lone surrogate (JSON "\ud800")
        ("caf\udce9", "\\udce9"),  # a non-UTF-8 byte in a CLI argument (surrogateescape)
        ("\x1b[31mred", "\\x1b"),
        ("abc\u202edef", "\\u202e"),  # RTL override
        ("a\u200bb", "\\u200b"),  # zero-width space
        ("tab\there", "\\t"),
    ],
)
def test_arguments_that_are_not_plain_text_are_refused_before_anything_runs(
    tmp_path: Path, arg: str, shown: str
) -> None:
    marker = tmp_path / "marker"
    svc = build(tmp_path, marker_command(marker))
    with pytest.raises(errors.UsageError, match="Type arguments as plain text") as caught:
        svc.commands.run(operator(svc), "mark", [arg])
    assert shown in str(caught.value)
    assert not marker.exists()
    (entry,) = svc.audit.since(60)
    assert entry.outcome == "refused" and shown in entry.target


def test_cli_refuses_a_non_utf8_argument_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    marker = tmp_path / "marker"
    build(tmp_path, marker_command(marker))
    config = str(tmp_path / "supbot.toml")
    assert main(["--config", config, "run", "mark", "caf\udce9"]) == 2
    assert "plain text" in capsys.readouterr().err
    assert not marker.exists()


def test_every_reason_the_os_refuses_to_start_it_is_one_clear_sentence(tmp_path: Path) -> None:
    notexec = tmp_path / "notexec.sh"
    notexec.write_text("echo hi\n")
    garbage = tmp_path / "garbage"
    garbage.write_bytes(b"\x7fELF\x00\x00garbage")
    garbage.chmod(0o755)
    extra = (
        command("nul", "print(1)", env='{ X = "a\\u0000b" }')
        + f'\n[[commands]]\nname = "perm"\ncommand = ["{notexec}"]\n'
        + f'\n[[commands]]\nname = "format"\ncommand = ["{garbage}"]\n'
        + command("nodir", "print(1)", cwd='"/nonexistent/dir"')
    )
    svc = build(tmp_path, extra)
    for name, why in [
        ("nul", "embedded null"),
        ("perm", "not executable"),
        ("format", "Exec format error"),
        ("nodir", "does not exist"),
    ]:
        with pytest.raises(ProgramMissing, match=why):
            svc.commands.run(admin(), name, [])
    outcomes = [(e.target, e.outcome) for e in svc.audit.since(60)]
    assert outcomes == [(n, "failed") for n in ("nul", "perm", "format", "nodir")]


def test_no_record_no_job_run(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    svc = build(tmp_path, job("nightly", "0 3 * * *", f'open("{marker}", "w")'))
    break_audit(svc)
    with pytest.raises(AuditUnavailable, match="Nothing was changed"):
        svc.jobs.run_now(admin(), "nightly")
    assert svc.jobs.history(admin(), "nightly") == [] and not marker.exists()
