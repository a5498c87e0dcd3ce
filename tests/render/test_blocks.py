"""The shared parts of Slack rendering: small replies, escaping, the safety net, sharing."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from slack_sdk.models.blocks import Block

from bot import grammar
from bot.render.blocks import (
    MAX_BLOCKS,
    escape,
    fallback_text,
    fit_message,
    preformatted,
    render_blocks,
    section,
    share_button,
    slack_date,
    strip_share,
)
from bot.replies import Choice, ConfirmReply, HelpReply, MessageReply, Reply, StatusReply
from tests.render.factories import fleet
from tests.render.limits import buttons, check_message, texts


def test_escape_neutralises_mentions_and_links() -> None:
    assert escape("<!channel> & <https://x|y>") == "&lt;!channel&gt; &amp; &lt;https://x|y&gt;"


def test_preformatted_keeps_the_newest_whole_lines() -> None:
    text = "\n".join(f"line {i} &" for i in range(2000))
    out = preformatted(text, 500)
    assert len(out) <= 500 and out.endswith("line 1999 &amp;```")
    assert out.startswith("```…\nline ")


def test_dates_render_in_each_readers_timezone_with_a_utc_fallback() -> None:
    assert slack_date(0) == "<!date^0^{date_short_pretty} {time}|1970-01-01 00:00 UTC>"


def test_error_message_is_styled_as_a_warning_and_escaped() -> None:
    dicts = check_message(render_blocks(MessageReply("No process `<!here>`.", error=True)))
    assert texts(dicts) == ":warning: No process `&lt;!here&gt;`."


def test_message_choices_become_buttons() -> None:
    reply = MessageReply("Did you mean web?", choices=(Choice("status web", "status web"),))
    assert [b["value"] for b in buttons(check_message(render_blocks(reply)))] == ["status web"]


def test_help_is_preformatted_with_share_button() -> None:
    dicts = check_message(render_blocks(HelpReply(grammar.help_text())))
    assert texts(dicts).startswith("```status [pattern|@node]")
    assert [b["action_id"] for b in buttons(dicts)] == ["sup_share"]


def test_help_on_one_subcommand_is_a_sentence() -> None:
    dicts = check_message(render_blocks(HelpReply(grammar.help_text("tail"))))
    assert "```" not in texts(dicts).split("\n")[0]


@pytest.mark.parametrize("count", [1, 50, 500])
def test_confirm_lists_targets_within_limits(count: int) -> None:
    targets = tuple(f"worker:worker_{i:03d}@node{i % 4}" for i in range(count))
    reply = ConfirmReply(f"Restart {count} processes?", targets, "restart worker --yes")
    dicts = check_message(render_blocks(reply))
    text = texts(dicts)
    assert f"*Restart {count} processes?*" in text
    assert "• `worker:worker_000@node0`" in text
    if count == 500:
        assert "…and " in text and " more" in text
    pairs = [(b["text"]["text"], b["value"], b.get("style")) for b in buttons(dicts)]
    assert pairs == [("Confirm", "restart worker --yes", "danger"), ("Cancel", "cancel", None)]


def test_strip_share_removes_only_the_share_button() -> None:
    dicts = [b.to_dict() for b in render_blocks(StatusReply(fleet(3)))]
    stripped = strip_share(dicts)
    assert "sup_share" not in str(stripped)
    assert [b["text"]["text"] for b in buttons(stripped)][-1] == "Refresh"
    only_share = [{"type": "actions", "elements": [share_button().to_dict()]}]
    assert strip_share(only_share) == []


def test_fallback_text_is_short_and_escaped() -> None:
    text = fallback_text(MessageReply("<!channel> " + "x" * 1000))
    assert len(text) <= 320 and "<!channel>" not in text


def test_fit_message_keeps_the_buttons_of_an_oversized_message() -> None:
    blocks: list[Block] = [section(f"row {i}", f"b{i}") for i in range(80)]
    blocks += render_blocks(StatusReply(fleet(1)))[-1:]
    fitted = fit_message(blocks)
    assert len(fitted) == MAX_BLOCKS
    dicts = check_message(fitted)
    assert "more blocks not shown" in texts(dicts)
    assert dicts[-1]["type"] == "actions"


@dataclass(frozen=True)
class Unknown(Reply):
    text: str


def test_a_reply_without_its_own_renderer_falls_back_to_its_text() -> None:
    dicts = check_message(render_blocks(Unknown("<b>")))
    assert dicts[0]["type"] == "section"


@dataclass(frozen=True)
class Many(Reply):
    """A reply type a later feature might add, with a renderer that overdoes it."""


def overdone_blocks(reply: Many, ctx: object) -> list[Block]:
    return [section("x" * 5000, f"m{i}") for i in range(70)]


def test_renderers_registered_elsewhere_are_still_fitted() -> None:
    render_blocks.register(Many, overdone_blocks)
    dicts = [b.to_dict() for b in render_blocks(Many())]
    assert len(dicts) == MAX_BLOCKS
    assert all(len(d["text"]["text"]) <= 3000 for d in dicts if d["type"] == "section")
