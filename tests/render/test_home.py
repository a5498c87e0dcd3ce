"""App Home: one part per binding naming the user, within the Home tab's 100 blocks."""

from __future__ import annotations

import pytest

from bot.render.home import home_channel, render_home
from bot.samples_records import RecentHistory
from tests.render.factories import fleet, process, view
from tests.render.limits import buttons, check_message, texts

HOME_BLOCKS = 100
HOME_TEXT = 30_000  # a view, not a message: no msg_blocks_too_long, but stay modest


def check_home(blocks: list) -> list[dict]:
    return check_message(blocks, HOME_BLOCKS, HOME_TEXT)


def test_user_without_grants_is_told_why_home_is_empty() -> None:
    text = texts(check_home(render_home([])))
    assert "You are not named in any channel binding" in text


def test_each_binding_shows_its_channel_totals_and_rows_with_actions() -> None:
    ops = view([process("web"), process("idle", state="STOPPED")], cache_age=1)
    web = view([process("web")])
    dicts = check_home(render_home([("C0OPS", ops), ("C0WEB", web)]))
    text = texts(dicts)
    assert "<#C0OPS>\n*2* total · :large_green_circle: 1 running" in text
    assert "<#C0WEB>\n*1* total" in text
    values = [b["value"] for b in buttons(dicts)]
    assert values.count("restart web@local --yes") == 2 and "start idle@local" in values


def test_clicks_can_tell_which_binding_a_row_belongs_to() -> None:
    dicts = check_home(render_home([("C0OPS", view([process("web")]))]))
    row = next(d for d in dicts if d["type"] == "actions")
    assert home_channel(row["block_id"]) == "C0OPS"
    assert home_channel("status_nav0") == ""


@pytest.mark.parametrize(
    ("count", "nodes", "bindings"), [(1, 1, 1), (50, 1, 3), (500, 4, 1), (500, 4, 6), (50, 2, 40)]
)
def test_home_fits_the_home_tab_limits(count: int, nodes: int, bindings: int) -> None:
    parts = [
        (f"C{i:04d}", fleet(count, nodes, down={"nodeX": "timed out"})) for i in range(bindings)
    ]
    dicts = check_home(render_home(parts))
    if bindings == 40:
        assert "Also bound to you:" in texts(dicts)


def test_crashed_processes_come_first_on_home() -> None:
    v = view([process(f"ok{i}") for i in range(20)] + [process("db", state="FATAL")])
    dicts = check_home(render_home([("C0OPS", v)]))
    first_row = next(d for d in dicts if d.get("block_id") == "home:C0OPS:p0")
    assert "*db*" in first_row["text"]["text"]
    assert "*Not shown here* — 11 processes:" in texts(dicts)


def test_a_merged_view_renders_without_a_channel() -> None:
    dicts = check_home(render_home(fleet(30)))
    assert "<#" not in texts(dicts) and "a bound channel" in texts(dicts)


def test_a_row_shows_its_memory_sparkline_and_restarts_when_known() -> None:
    ops = view([process("web"), process("idle", state="STOPPED"), process("new")])
    history = {
        ("local", "web:web"): RecentHistory((100 << 20, 150 << 20, 200 << 20), 2),
        ("local", "idle:idle"): RecentHistory((), 0),
        ("local", "new:new"): RecentHistory((), None),  # its node's events are not recorded
    }
    dicts = check_home(render_home([("C0OPS", ops)], history))
    rows = {d["block_id"]: d["text"]["text"] for d in dicts if d["type"] == "section"}
    web = next(t for t in rows.values() if "web" in t)
    assert web.endswith("\nrss `▁▅█ 100.0 MiB–200.0 MiB` · 2 restarts (24 h)")
    assert next(t for t in rows.values() if "idle" in t).endswith("\n0 restarts (24 h)")
    assert "\n" not in next(t for t in rows.values() if "new" in t)


def test_a_full_home_with_history_on_every_row_stays_within_slack_limits() -> None:
    big = fleet(300, nodes=3)
    spark = RecentHistory(tuple(range(1 << 20, 361 << 20, 1 << 20)), 12)
    history = {(p.node, p.full_name): spark for p in big.processes}
    check_home(render_home([(f"C0{i}", big) for i in range(4)], history))
