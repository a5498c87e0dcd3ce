"""`tail --grep` against a real supervisord: a ~50 MB log, searched from its end."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.auth import Access
from bot.choices import choices
from bot.embedded import EmbeddedSupervisor
from bot.log_file import FileLog, RpcLog, log_windows
from bot.log_search import GrepRequest, search_log
from bot.redact import Redactor
from bot.render.blocks import render_blocks
from bot.render.text import render_text
from bot.replies import MessageReply, TailReply
from bot.services import Services
from bot.supervisor.client import NodeClient
from tests.conftest import PY, basic_toml, make_settings, start_sample, wait_until

# 101-byte filler lines with 2- and 3-byte UTF-8 characters, so window edges split some.
# `NEEDLE far` is ~30 MB from the end (past the 8 MiB searched), `NEEDLE near` ~5 MB.
_WRITER = (
    "import sys,time;"
    "f=lambda a,b:sys.stdout.writelines('filler %%07d café € ' %% i + 'x'*75 + chr(10) for i in range(a,b));"
    "f(0,200000);print('NEEDLE far');f(200000,450000);"
    "print('before the near one');print('NEEDLE near, Timeout after 30s');print('after the near one');"
    "f(450000,500000);print('api call with password=hunter2 failed: Timeout');"
    "print('DONE',flush=True);time.sleep(100000)"
)
PROGRAMS = f"""
[program:big]
command={PY} -u -c "{_WRITER}"
startsecs=0
stdout_logfile_maxbytes=200MB
"""


@pytest.fixture(scope="module")
def sv() -> Iterator[EmbeddedSupervisor]:
    sup = start_sample(PROGRAMS, running=1)
    client = NodeClient(sup.node())
    wait_until(lambda: client.tail("big", 1).lines == ("DONE",), 120, 0.5)
    yield sup
    sup.stop()


@pytest.fixture(scope="module")
def config(sv: EmbeddedSupervisor, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cfg") / "supbot.toml"
    path.write_text(basic_toml(sv))
    return path


@pytest.fixture(scope="module")
def services(config: Path) -> Iterator[Services]:
    svc = Services.build(make_settings(config.parent, config.read_text()))
    yield svc
    svc.close()


def admin(services: Services) -> Access:
    return services.authorizer.for_channel("U0ADMIN", "C0OPS", "slash")


def sup(services: Services, text: str) -> TailReply | MessageReply:
    reply = services.dispatcher.run_text(admin(services), text)
    assert isinstance(reply, TailReply | MessageReply)
    return reply


def test_grep_finds_a_line_5mb_back_in_a_50mb_log_and_says_how_far_it_looked(
    services: Services,
) -> None:
    reply = sup(services, "tail big --grep NEEDLE")
    assert isinstance(reply, TailReply) and reply.tail.search is not None
    assert reply.tail.lines == ("NEEDLE near, Timeout after 30s",)  # `far` is out of reach
    assert reply.tail.search.size > 50_000_000 and reply.tail.search.searched == 8 * 1024**2
    head = render_text(reply).splitlines()[0]
    assert "1 matching line for `NEEDLE`" in head
    assert "searched the last 8.0 MiB (of 4" in head  # ~50 MB is ~48 MiB


def test_grep_ignores_case_shows_context_and_the_newest_n(services: Services) -> None:
    reply = sup(services, "tail big --grep timeout -i -C 1 1")
    assert isinstance(reply, TailReply)
    text = "\n".join(reply.tail.lines)
    assert "password=hunter2" not in text  # the newest match, redacted like tail output
    assert "failed: Timeout" in text and "NEEDLE near" not in text
    assert reply.tail.lines[-1] == "DONE"  # one line of context after it


def test_grep_context_is_joined_around_a_match(services: Services) -> None:
    reply = sup(services, "tail big --grep 'NEEDLE n' -C 1")
    assert isinstance(reply, TailReply)
    assert reply.tail.lines == (
        "before the near one",
        "NEEDLE near, Timeout after 30s",
        "after the near one",
    )


def test_grep_cannot_probe_a_redacted_secret(services: Services) -> None:
    reply = sup(services, "tail big --grep hunter2")
    assert isinstance(reply, TailReply) and reply.tail.lines == ()
    assert "no match for `hunter2`" in render_text(reply)


def test_search_bytes_setting_limits_how_far_back(services: Services) -> None:
    small = services.processes
    old = small.search_bytes
    small.search_bytes = 1024 * 1024
    try:
        ask = GrepRequest("NEEDLE")
        tail = small.grep(admin(services), "big", ask)
    finally:
        small.search_bytes = old
    assert tail.lines == () and tail.search is not None and tail.search.searched == 1024**2


@pytest.mark.parametrize(
    ("pattern", "says"),
    [
        ("(a+)+$", "repeats a group that itself repeats"),
        ("(", "not a valid regular expression"),
        ("x" * 201, "at most 200"),
    ],
)
def test_a_bad_pattern_gets_a_clear_message_in_slack(
    services: Services, pattern: str, says: str
) -> None:
    reply = sup(services, f"tail big --grep '{pattern}'")
    assert isinstance(reply, MessageReply) and reply.error and says in reply.text


def test_a_slow_pattern_is_stopped_by_the_deadline(services: Services) -> None:
    # Not nested, so the guard lets it through; cubic on the long filler lines.
    reply = sup(services, "tail big --grep '.*x.*x.*x.*x.*x.*x.*Q'")
    assert isinstance(reply, MessageReply) and "took longer than" in reply.text


def test_cli_grep_prints_the_match_and_a_bad_pattern_exits_2(config: Path) -> None:
    env = {**os.environ, "SUPBOT_CONFIG": str(config)}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "bot", "tail", "big", *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )

    found = cli("--grep", "NEEDLE")
    assert found.returncode == 0, found.stderr
    assert "NEEDLE near" in found.stdout and "searched the last 8.0 MiB" in found.stdout
    bad = cli("--grep", "(a*)*")
    assert bad.returncode == 2 and "repeats a group" in bad.stderr + bad.stdout


def test_slack_shows_the_search_summary_and_a_refresh_that_searches_again(
    services: Services,
) -> None:
    reply = sup(services, "tail big --grep 'NEEDLE <n>|NEEDLE near' -i")
    assert isinstance(reply, TailReply)
    dicts = [b.to_dict() for b in render_blocks(reply)]
    head = dicts[0]["text"]["text"]
    assert "searched the last 8.0 MiB" in head and "&lt;n&gt;" in head
    assert "NEEDLE near" in str(dicts[1])
    refresh = [c for c in choices(reply) if c.label == "Refresh"][0]
    assert "--grep" in refresh.command and refresh.command.endswith("-i")


@pytest.mark.parametrize(
    "ask",
    [
        GrepRequest("NEEDLE"),
        GrepRequest("timeout", ignore_case=True, context=2),
        GrepRequest("caf. €", lines=300, context=1),  # many hits, window edges split é and €
        GrepRequest("hunter2"),
    ],
    ids=["one-hit", "context-redacted", "utf8-edges", "secret"],
)
def test_the_log_file_and_xml_rpc_answer_the_same_search(
    sv: EmbeddedSupervisor, ask: GrepRequest
) -> None:
    client = NodeClient(sv.node())
    size = client.log_size("big:big")
    redactor = Redactor()
    with log_windows(client, "big:big", "stdout", size) as log:
        assert isinstance(log, FileLog)  # the node is on this host and its log is readable
        from_file = search_log(log, client.name, "big:big", ask, redactor, size, 8 << 20)
    rpc = RpcLog(client, "big:big", "stdout")
    over_rpc = search_log(rpc, client.name, "big:big", ask, redactor, size, 8 << 20)
    assert from_file == over_rpc
    assert ask.pattern == "hunter2" or from_file.lines


def test_a_log_file_shorter_than_supervisord_says_is_read_over_xml_rpc(
    sv: EmbeddedSupervisor,
) -> None:
    client = NodeClient(sv.node())
    size = client.log_size("big:big")
    # A file shorter than the log supervisord measures was rotated (or is another file).
    with log_windows(client, "big:big", "stdout", size + 1) as log:
        assert isinstance(log, RpcLog)
