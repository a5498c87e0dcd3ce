"""`info` and `tail` in Slack: fields, log preview, escaping, long logs as files."""

from __future__ import annotations

import pytest

from bot.domain import LogTail
from bot.processes import ProcessDetails
from bot.render.blocks import render_blocks
from bot.render.blocks_process import tail_file_content, tail_filename, tail_needs_upload
from bot.render.text import render_text
from bot.replies import DetailsReply, TailReply
from bot.samples_records import ProcessUsage, Usage
from tests.render.factories import NOW, process
from tests.render.limits import buttons, check_message, texts


def details(**kw: object) -> DetailsReply:
    preview = tuple(kw.pop("preview", ("ready on :8080",)))  # type: ignore[arg-type]
    return DetailsReply(ProcessDetails(process(**kw), preview, True))  # type: ignore[arg-type]


def tail(lines: list[str], follow: bool = False, stream: str = "stdout") -> TailReply:
    return TailReply(LogTail("web", "local", stream, tuple(lines), False), follow)


def test_info_shows_state_pid_uptime_memory_cpu_and_command() -> None:
    reply = details(memory_rss=50 * 1048576, cpu_percent=2.5, command="/usr/bin/app --port 80")
    text = texts(check_message(render_blocks(reply)))
    for expected in (
        "*State*\n:large_green_circle: RUNNING",
        "*PID*\n1234",
        "*Uptime*\n3h 0m",
        "*Memory*\n50.0 MiB",
        "*CPU*\n2.5%",
        "`/usr/bin/app --port 80`",
        "ready on :8080",
    ):
        assert expected in text


def test_info_dates_render_in_the_readers_timezone() -> None:
    text = texts(check_message(render_blocks(details())))
    assert f"<!date^{NOW - 3 * 3600}^{{date_short_pretty}} {{time}}|2023-11-14 " in text


def test_info_of_a_crashed_process_shows_unexpected_exit_and_spawn_error() -> None:
    reply = details(state="EXITED", expected_exit=False, exitstatus=3, spawnerr="no such file")
    text = texts(check_message(render_blocks(reply)))
    assert "*Last exit*\n3 *unexpected*" in text
    assert ":x: *Spawn error*: no such file" in text
    assert [b["value"] for b in buttons(check_message(render_blocks(reply)))][:2] == [
        "start web@local",
        "tail web@local",
    ]


def test_info_has_actions_refresh_and_share() -> None:
    labels = [b["text"]["text"] for b in buttons(check_message(render_blocks(details())))]
    assert labels == [
        "Restart web@local",
        "Stop web@local",
        "Logs web@local",
        "Refresh",
        "Share in channel",
    ]


def test_info_escapes_log_preview_and_description() -> None:
    reply = details(preview=("deploy done <!channel>", "a ``` b"), description="<@U123> & co")
    text = texts(check_message(render_blocks(reply)))
    assert "<!channel>" not in text and "<@U123>" not in text
    assert "&lt;!channel&gt;" in text and "&lt;@U123&gt; &amp; co" in text
    assert text.count("```") == 2  # the line's own ``` does not end the block


def test_info_with_huge_values_fits_slack_limits() -> None:
    reply = details(
        spawnerr="e" * 5000, command="c" * 5000, description="d" * 5000, preview=["x" * 3000] * 10
    )
    check_message(render_blocks(reply))


def test_tail_shows_lines_preformatted_with_refresh() -> None:
    dicts = check_message(render_blocks(tail(["one", "two <!channel>"], stream="stderr")))
    text = texts(dicts)
    assert "```one\ntwo &lt;!channel&gt;```" in text
    assert "`web@local` stderr, last 2 lines" in text
    assert [(b["text"]["text"], b["value"]) for b in buttons(dicts)][0] == (
        "Refresh",
        "tail web@local 100 --stderr",
    )


def test_empty_log_says_so() -> None:
    assert "The log is empty." in texts(check_message(render_blocks(tail([]))))


@pytest.mark.parametrize("count", [1, 50, 100, 500])
def test_tail_of_any_length_fits_slack_limits(count: int) -> None:
    check_message(render_blocks(tail([f"line {i} " + "x" * 60 for i in range(count)])))


def test_tail_that_fits_needs_no_upload() -> None:
    reply = tail([f"line {i}" for i in range(100)])
    assert not tail_needs_upload(reply)
    assert "line 0\n" in texts(check_message(render_blocks(reply)))


def test_long_tail_is_uploaded_and_the_message_shows_the_newest_lines() -> None:
    lines = [f"line {i} " + "x" * 80 for i in range(1000)]
    reply = tail(lines)
    assert tail_needs_upload(reply)
    assert tail_file_content(reply) == "\n".join(lines) + "\n"
    assert tail_filename(reply) == "web-local-stdout.log"
    text = texts(check_message(render_blocks(reply)))
    assert "line 999 " in text and "line 0 " not in text
    assert "all 1000 lines are attached as a file" in text


def test_one_enormous_line_is_split_not_lost() -> None:
    reply = tail(["&" * 20000])
    assert tail_needs_upload(reply)
    check_message(render_blocks(reply))


def test_followed_log_shows_the_newest_lines_without_upload() -> None:
    reply = tail([f"line {i} " + "x" * 80 for i in range(1000)], follow=True)
    assert not tail_needs_upload(reply)
    text = texts(check_message(render_blocks(reply)))
    assert "line 999 " in text and "attached" not in text


def test_info_shows_the_last_hour_sparklines_and_the_restarts_of_the_day() -> None:
    hour = tuple(Usage(rss * 1048576, cpu) for rss, cpu in ((100, 1), (120, 5), (180, 40)))
    usage = ProcessUsage(hour[-1], 4.0, hour)
    found = ProcessDetails(process(memory_rss=180 * 1048576), (), True, usage, False, 3)
    text = texts(check_message(render_blocks(DetailsReply(found))))
    assert "*Rss, last hour*\n`▁▃█ 100.0 MiB–180.0 MiB`" in text
    assert "*Restarts, 24 h*\n`3`" in text
    plain = render_text(DetailsReply(found))
    assert "restarts, 24 h" in plain and "▁▃█" in plain


def test_info_says_nothing_of_restarts_where_they_are_not_recorded() -> None:
    text = texts(check_message(render_blocks(details())))
    assert "Restarts" not in text and "last hour" not in text
