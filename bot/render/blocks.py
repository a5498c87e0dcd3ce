"""Slack rendering: replies in, `slack_sdk.models.blocks` out. Pure: no network, no Slack calls.

Features register their own reply types on `render_blocks` (functools.singledispatch).
Buttons come from `bot.choices.choices(reply)`: each button's value is `/sup` command text, so a
click is parsed and authorized again exactly like typed text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import singledispatch

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.choices import choices
from bot.render.text import render_text
from bot.replies import Choice, Reply

BUTTON_ACTION_PREFIX = "sup_cmd"
MAX_SECTION = 2900
MAX_BLOCKS = 50


@dataclass(frozen=True)
class RenderContext:
    """What a renderer may need beyond the reply: paging for large fleets."""

    page: int = 0
    page_size: int = 20


def escape(text: str) -> str:
    """mrkdwn escaping for text we did not write."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def preformatted(text: str, limit: int = MAX_SECTION) -> str:
    """A ``` block that fits one section (cut from the top: the newest lines matter)."""
    body = escape(text) or " "
    if len(body) > limit - 8:
        body = "…\n" + body[-(limit - 12) :]
    return f"```{body}```"


def button(choice: Choice, index: int) -> ButtonElement:
    confirm = None
    if choice.confirm:
        confirm = ConfirmObject(
            title=PlainTextObject(text="Are you sure?"),
            text=MarkdownTextObject(text=escape(choice.confirm)[:300]),
            confirm=PlainTextObject(text="Yes"),
            deny=PlainTextObject(text="Cancel"),
        )
    return ButtonElement(
        text=PlainTextObject(text=choice.label[:75]),
        action_id=f"{BUTTON_ACTION_PREFIX}:{index}",
        value=choice.command[:2000],
        style=choice.style or None,
        confirm=confirm,
    )


def action_blocks(items: Sequence[Choice], start: int = 0, block_prefix: str = "act") -> list[Block]:
    """Buttons, 5 to an actions block (Slack allows 25; 5 keeps rows readable)."""
    blocks: list[Block] = []
    for i in range(0, len(items), 5):
        chunk = items[i : i + 5]
        elements = [button(c, start + i + j) for j, c in enumerate(chunk)]
        blocks.append(ActionsBlock(block_id=f"{block_prefix}_{start + i}", elements=elements))
    return blocks


@singledispatch
def render_blocks(reply: Reply, ctx: RenderContext = RenderContext()) -> list[Block]:
    """Fallback: the terminal rendering in a preformatted block, then the reply's buttons."""
    blocks: list[Block] = [SectionBlock(text=MarkdownTextObject(text=preformatted(render_text(reply))))]
    return blocks + action_blocks(choices(reply))[: MAX_BLOCKS - 1]


def fallback_text(reply: Reply) -> str:
    """The notification / accessibility text of a message."""
    return render_text(reply)[:300]
