"""Outcomes in the channel: who did what, grouped when many, failures with their log."""

from __future__ import annotations

import pytest

from bot.domain import ActionOutcome, ReloadDiff, ReloadResult
from bot.processes import ActionReport
from bot.render.blocks import render_blocks
from bot.replies import ActionReply, ReloadPreviewReply, ReloadReply
from tests.render.limits import buttons, check_message, texts


def ok(name: str, node: str = "local", pid: int = 1234) -> ActionOutcome:
    return ActionOutcome(name, node, "restart", True, f"RUNNING, pid {pid}", "RUNNING", pid, 2.1)


def failed(name: str, node: str = "local") -> ActionOutcome:
    return ActionOutcome(
        name,
        node,
        "restart",
        False,
        "FATAL (Exited too quickly)",
        "FATAL",
        0,
        1.0,
        "Exited too quickly (process log may have details)",
        "boom: cannot connect to db <!channel>\n" * 40,
    )


def reply(*outcomes: ActionOutcome) -> ActionReply:
    report = ActionReport("restart", "web", "U0OPER", tuple(outcomes), 3.2)
    return ActionReply(report, "<@U0OPER>")


def test_restart_outcome_says_who_did_it_and_the_result() -> None:
    text = texts(check_message(render_blocks(reply(ok("web")))))
    assert ":white_check_mark: *web*: Restarted by <@U0OPER> — RUNNING, pid 1234 (2.1 s)" in text


def test_failed_start_shows_spawn_error_and_escaped_log_tail() -> None:
    dicts = check_message(render_blocks(reply(failed("broken"))))
    text = texts(dicts)
    assert ":x: *broken*: Restart by <@U0OPER> failed — FATAL (Exited too quickly) (1.0 s)" in text
    assert "Spawn error: `Exited too quickly (process log may have details)`" in text
    assert "```" in text and "boom: cannot connect to db &lt;!channel&gt;" in text
    assert "<!channel>" not in text
    assert [b["value"] for b in buttons(dicts)] == ["tail broken@local --stderr"]


def test_outcomes_on_several_nodes_name_the_node() -> None:
    text = texts(check_message(render_blocks(reply(ok("web", "n1"), ok("web", "n2")))))
    assert "*web* @n1: Restarted" in text and "*web* @n2: Restarted" in text


@pytest.mark.parametrize("count", [1, 50, 500])
def test_many_outcomes_are_grouped_within_limits(count: int) -> None:
    outcomes = [ok(f"w{i:03d}", f"node{i % 4}") for i in range(count)]
    outcomes += [failed(f"bad{i}", "node1") for i in range(count // 10)]
    dicts = check_message(render_blocks(reply(*outcomes)))
    if count > 8:
        assert f"*Restarted by <@U0OPER>*: {count} ok, {count // 10} failed (3.2 s)" in texts(dicts)


def test_actor_that_is_not_a_slack_user_is_escaped() -> None:
    report = ActionReport("stop", "web", "cli:<!channel>", (ok("web"),), 1.0)
    text = texts(check_message(render_blocks(ActionReply(report, ""))))
    assert "by cli:&lt;!channel&gt;" in text


def test_reload_preview_lists_changes_per_node_with_apply_and_cancel() -> None:
    diffs = (ReloadDiff("n1", ("api",), ("web",), ("old",)), ReloadDiff("n2"))
    dicts = check_message(render_blocks(ReloadPreviewReply(diffs)))
    text = texts(dicts)
    assert "*n1*\n:heavy_plus_sign: added: `api`\n:pencil2: changed: `web`\n" in text
    assert ":heavy_minus_sign: removed: `old`" in text and "*n2*" not in text
    labels = [b["text"]["text"] for b in buttons(dicts)]
    assert labels == ["Apply", "Cancel"]


def test_reload_preview_without_changes_says_so_and_has_no_apply() -> None:
    dicts = check_message(render_blocks(ReloadPreviewReply((ReloadDiff("n1"),))))
    assert "*No changes*" in texts(dicts) and not buttons(dicts)


def test_huge_reload_preview_fits_limits() -> None:
    diffs = tuple(
        ReloadDiff(f"node{n}", tuple(f"group{i}" for i in range(300)), ("web",)) for n in range(60)
    )
    check_message(render_blocks(ReloadPreviewReply(diffs)))


def test_reload_result_per_node() -> None:
    results = (
        ReloadResult(ReloadDiff("n1", ("api",)), True, ("api: added process group",)),
        ReloadResult(ReloadDiff("n2", ("api",)), False, ("api: ERROR (spawn error) <x>",)),
    )
    dicts = check_message(render_blocks(ReloadReply(results, "<@U0ADMIN>")))
    text = texts(dicts)
    assert "*Reload by <@U0ADMIN>*: 1 of 2 nodes applied" in text
    assert ":white_check_mark: *n1* applied" in text
    assert ":x: *n2* *failed*" in text and "api: ERROR (spawn error) &lt;x&gt;" in text


def test_huge_reload_result_fits_limits() -> None:
    results = tuple(
        ReloadResult(
            ReloadDiff(f"n{n}", tuple(f"g{i}" for i in range(200))),
            n % 2 == 0,
            tuple(f"g{i}: added process group" for i in range(200)),
        )
        for n in range(60)
    )
    check_message(render_blocks(ReloadReply(results, "<@U0ADMIN>")))
