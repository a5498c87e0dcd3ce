"""`status` in Slack: limits at every fleet size, buttons by state, paging, cache age."""

from __future__ import annotations

import re

import pytest

from bot import grammar
from bot.render.blocks import RenderContext, fallback_text, render_blocks
from bot.replies import StatusReply
from tests.render.factories import fleet, fleet_processes, process, view
from tests.render.limits import buttons, check_message, texts


def rows(dicts: list[dict]) -> list[str]:
    """Process names in the order of their rows (block_id p<N>)."""
    return [
        re.search(r"\*([^*]+)\*", d["text"]["text"]).group(1)  # type: ignore[union-attr]
        for d in dicts
        if re.fullmatch(r"p\d+", d.get("block_id", ""))
    ]


def row_buttons(dicts: list[dict], name: str) -> list[tuple[str, str]]:
    ids = [d["block_id"] for d in dicts if re.fullmatch(r"p\d+", d.get("block_id", ""))]
    by_name = dict(zip(rows(dicts), ids, strict=True))
    block = next(d for d in dicts if d.get("block_id") == by_name[name] + "_act")
    return [(b["text"]["text"], b["value"]) for b in block["elements"]]


def button_value(dicts: list[dict], label: str) -> str:
    return next(b["value"] for b in buttons(dicts) if b["text"]["text"].startswith(label))


@pytest.mark.parametrize(
    ("count", "nodes"), [(1, 1), (50, 1), (500, 1), (500, 4), (50, 4), (13, 2)]
)
def test_every_page_of_status_fits_slack_limits(count: int, nodes: int) -> None:
    v = fleet(count, nodes, cache_age=4)
    pages = -(-count // RenderContext().page_size)
    seen: list[str] = []
    for page in range(1, pages + 1):
        dicts = check_message(render_blocks(StatusReply(v, page=page)))
        seen += rows(dicts)
    assert len(seen) == count


def test_status_with_an_unreachable_node_names_it_with_the_error() -> None:
    v = fleet(500, 4, down={"node5": "connection refused"})
    text = texts(check_message(render_blocks(StatusReply(v))))
    assert ":warning: *node5* unreachable (connection refused)" in text
    assert "*node2*:" in text  # totals per node when there are several


def test_header_totals_count_running_stopped_and_crashed() -> None:
    v = view([process("web"), process("idle", state="STOPPED"), process("db", state="FATAL")])
    text = texts(check_message(render_blocks(StatusReply(v))))
    assert "*3* total · :large_green_circle: 1 running · :white_circle: 1 stopped" in text
    assert "*1 crashed*" in text


def test_start_button_only_for_stopped_and_restart_stop_logs_for_running() -> None:
    v = view([process("web"), process("idle", state="STOPPED")])
    dicts = check_message(render_blocks(StatusReply(v)))
    assert row_buttons(dicts, "web") == [
        ("Restart", "restart web@local --yes"),
        ("Stop", "stop web@local --yes"),
        ("Logs", "tail web@local"),
    ]
    assert row_buttons(dicts, "idle") == [
        ("Start", "start idle@local"),
        ("Logs", "tail idle@local"),
    ]


def test_stop_and_restart_buttons_ask_for_confirmation() -> None:
    dicts = check_message(render_blocks(StatusReply(view([process("web")]))))
    confirmed = {b["text"]["text"] for b in buttons(dicts) if "confirm" in b}
    assert confirmed == {"Restart", "Stop"}


def test_row_shows_state_pid_and_uptime() -> None:
    dicts = check_message(render_blocks(StatusReply(view([process("web", pid=4321)]))))
    assert ":large_green_circle: *web* · `RUNNING` · pid 4321 · up 3h 0m" in texts(dicts)


def test_crashed_processes_come_first() -> None:
    processes = fleet_processes(30)
    crashed = [p.display_name for p in processes if p.crashed]
    assert crashed and processes[0].display_name not in crashed
    dicts = check_message(render_blocks(StatusReply(view(processes))))
    assert rows(dicts)[: len(crashed)] == crashed


def test_show_more_leads_to_page_two_with_the_remaining_processes() -> None:
    v = fleet(20)
    first = check_message(render_blocks(StatusReply(v)))
    command = grammar.parse(button_value(first, "Show more"))
    assert (command.verb, command.page) == ("status", 2)
    second = check_message(render_blocks(StatusReply(v, page=command.page)))
    assert len(rows(first)) == 12 and len(rows(second)) == 8
    assert sorted(rows(first) + rows(second)) == sorted(p.display_name for p in v.processes)
    assert not any(b["text"]["text"].startswith("Show more") for b in buttons(second))
    assert grammar.parse(button_value(second, "Previous")).page == 1


def test_show_more_keeps_the_pattern() -> None:
    v = fleet(40, pattern="service-*")
    dicts = check_message(render_blocks(StatusReply(v)))
    assert button_value(dicts, "Show more") == "status 'service-*' --page 2"
    assert button_value(dicts, "Refresh") == "status 'service-*'"


def test_processes_not_on_the_page_are_summarised_per_group() -> None:
    dicts = check_message(render_blocks(StatusReply(fleet(500, 4))))
    text = texts(dicts)
    assert "*Not on this page* — 488 processes:" in text
    assert re.search(r"\*service-00\* @node1 — \d+ running", text)


def test_a_page_past_the_end_shows_the_last_page() -> None:
    v = fleet(20)
    dicts = check_message(render_blocks(StatusReply(v, page=9)))
    assert len(rows(dicts)) == 8
    assert "Page 2 of 2" in texts(dicts)


def test_context_page_overrides_the_reply_page() -> None:
    v = fleet(20)
    dicts = check_message(render_blocks(StatusReply(v), RenderContext(page=2)))
    assert len(rows(dicts)) == 8


def test_cached_answer_says_how_old_it_is() -> None:
    dicts = check_message(render_blocks(StatusReply(fleet(3, cache_age=4.2))))
    assert "as of 4 s ago" in texts(dicts)


def test_fresh_or_new_answer_has_no_age_line() -> None:
    assert "as of" not in texts(
        check_message(render_blocks(StatusReply(fleet(3, cache_age=4), True)))
    )
    assert "as of" not in texts(check_message(render_blocks(StatusReply(fleet(3, cache_age=0.2)))))


def test_status_has_refresh_and_share_buttons() -> None:
    dicts = check_message(render_blocks(StatusReply(fleet(3, pattern="web"))))
    assert button_value(dicts, "Refresh") == "status web"
    share = [b for b in buttons(dicts) if b["action_id"] == "sup_share"]
    assert [b["text"]["text"] for b in share] == ["Share in channel"]


def test_text_from_processes_is_escaped() -> None:
    bad = process("db", state="FATAL", spawnerr="<!channel> can't spawn & <b>")
    dicts = check_message(render_blocks(StatusReply(view([bad], down={"n2": "<!here> down"}))))
    text = texts(dicts)
    assert "<!channel>" not in text and "<!here>" not in text
    assert "&lt;!channel&gt; can't spawn &amp; &lt;b&gt;" in text


def test_empty_status_says_so() -> None:
    dicts = check_message(render_blocks(StatusReply(view([]))))
    assert "No processes to show." in texts(dicts)


def test_notification_text_of_a_big_status_is_its_totals_line() -> None:
    v = fleet(500, 4, down={"node5": "connection refused"})
    text = fallback_text(StatusReply(v))
    t = v.totals
    assert (
        text == f"{t.total} total · {t.running} running · {t.stopped} stopped · {t.crashed} crashed"
    )
