"""Slack rendering: replies in, `slack_sdk.models.blocks` out. Pure: no network, no Slack calls.

Each render module lists the reply types it draws in a `BLOCK_RENDERERS` table, which
bot/wiring.py installs at start-up (singledispatch under the hood); every result passes through `fit_message`, so no message breaks Slack's limits.
Buttons come from `bot.choices.choices(reply)`: each button's value is `/sup` command text and
its action_id starts with `sup_cmd:`, so a click is parsed and authorized again exactly like
typed text. The one exception is `share_button()` (action_id `sup_share`), see there.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import singledispatch
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.choices import choices
from bot.render.text import render_text
from bot.replies import Choice, ConfirmReply, HelpReply, MessageReply, Reply
from bot.usertext import quote

BUTTON_ACTION_PREFIX = "sup_cmd"
SHARE_ACTION_ID = "sup_share"
MAX_SECTION = 2900  # Slack allows 3,000; the margin absorbs a suffix such as "…and 3 more"
MAX_FIELD = 1900
MAX_BLOCKS = 50
MAX_HOME_BLOCKS = 100
BUTTONS_PER_ROW = 5  # Slack allows 25 an actions block; 5 keeps a row readable


@dataclass(frozen=True)
class RenderContext:
    """What a renderer may need beyond the reply.

    `page`: 0 means "the page the reply asks for" (`StatusReply.page`, from `status --page N`);
    a positive value overrides it. `page_size`: processes with buttons on one status page.
    """

    page: int = 0
    page_size: int = 12


# --- text helpers ------------------------------------------------------------------------


def escape(text: str) -> str:
    """mrkdwn escaping for text we did not write (names, errors, log lines)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def cut(text: str, limit: int) -> str:
    """At most `limit` characters, marked with … when shortened."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"


def code(text: str, limit: int = 200) -> str:
    """Inline code for text we did not write: `quote()` (nothing hidden, nothing can end the
    span), mrkdwn-escaped."""
    return escape(quote(text, limit)) if text else "-"


def preformatted(text: str, limit: int = MAX_SECTION) -> str:
    """A ``` block that fits one section (cut from the top: the newest lines matter)."""
    # A ``` inside the text would close the block early and format the rest as mrkdwn.
    body = escape(text).replace("```", "`\u200b`\u200b`") or " "
    if len(body) > limit - 8:
        body = body[-(limit - 12) :]
        # Start at a whole line: no half line, no half-cut &amp; entity.
        body = "…\n" + (body.split("\n", 1)[1] if "\n" in body[:-1] else body)
    return f"```{body}```"


def slack_date(epoch: float, fmt: str = "{date_short_pretty} {time}") -> str:
    """A date shown in each reader's own timezone; UTC text where Slack cannot render it."""
    fallback = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(epoch))
    return f"<!date^{int(epoch)}^{fmt}|{fallback}>"


def mention(who: str) -> str:
    """A Slack user mention as is; anything else (cli:alice, api:deploy) escaped."""
    if who.startswith("<@") and who.endswith(">") and who[2:-1].isalnum():
        return who
    return escape(who)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 'es' if word.endswith('s') else 's'}"


def lines_within(lines: Iterable[str], limit: int, more: Callable[[int], str]) -> str:
    """Join lines within `limit` characters; what does not fit becomes one `more(n_left)` line."""
    items = list(lines)
    if sum(len(line) + 1 for line in items) - 1 <= limit:
        return "\n".join(items)
    reserve = len(more(len(items))) + 1
    out: list[str] = []
    used = 0
    for line in items:
        if used + len(line) + 1 + reserve > limit:
            break
        out.append(line)
        used += len(line) + 1
    out.append(more(len(items) - len(out)))
    return "\n".join(out)


# --- block helpers -----------------------------------------------------------------------


def section(text: str, block_id: str | None = None) -> SectionBlock:
    return SectionBlock(text=MarkdownTextObject(text=cut(text, MAX_SECTION)), block_id=block_id)


def header(text: str, block_id: str | None = None) -> HeaderBlock:
    return HeaderBlock(text=PlainTextObject(text=cut(text, 150), emoji=True), block_id=block_id)


def context(*texts: str, block_id: str | None = None) -> ContextBlock:
    elements = [MarkdownTextObject(text=cut(t, MAX_FIELD)) for t in texts if t][:10]
    return ContextBlock(elements=elements, block_id=block_id)


def button(choice: Choice, index: int | str, label: str | None = None) -> ButtonElement:
    """A `/sup` command as a button; `index` makes its action_id unique in the message."""
    confirm = None
    if choice.confirm:
        confirm = ConfirmObject(
            title=PlainTextObject(text="Are you sure?"),
            text=MarkdownTextObject(text=cut(escape(choice.confirm), 300)),
            confirm=PlainTextObject(text="Yes"),
            deny=PlainTextObject(text="Cancel"),
        )
    return ButtonElement(
        text=PlainTextObject(text=cut(label or choice.label, 75)),
        action_id=f"{BUTTON_ACTION_PREFIX}:{index}",
        value=choice.command[:2000],
        style=choice.style or None,
        confirm=confirm,
    )


def share_button(command_text: str = "share") -> ButtonElement:
    """ "Share in channel" on read-only answers (which are ephemeral to the asker).

    Not a `sup_cmd:` button: the Slack plumbing handles action_id `sup_share`. It sets the
    value to the command text and, on a click, runs that command again for the clicker (so it
    is authorized again) and posts the answer in the channel, without this button
    (`strip_share`), naming who shared it.
    """
    return ButtonElement(
        text=PlainTextObject(text="Share in channel"),
        action_id=SHARE_ACTION_ID,
        value=command_text[:2000] or "status",
    )


def strip_share(blocks: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """Message blocks (as Slack returns them) without the share button, for re-posting."""
    out = []
    for block in blocks:
        if block.get("type") == "actions":
            elements = [
                e for e in block.get("elements", []) if e.get("action_id") != SHARE_ACTION_ID
            ]
            if not elements:
                continue
            block = {**block, "elements": elements}
        out.append(block)
    return out


def action_blocks(
    items: Sequence[Choice],
    start: int = 0,
    block_prefix: str = "act",
    extra: Sequence[ButtonElement] = (),
) -> list[Block]:
    """Buttons, `BUTTONS_PER_ROW` to an actions block; `extra` buttons (share) go last."""
    elements = [button(c, f"{block_prefix}_{start + i}") for i, c in enumerate(items)]
    elements += list(extra)
    return [
        ActionsBlock(
            block_id=f"{block_prefix}_{start + i}", elements=elements[i : i + BUTTONS_PER_ROW]
        )
        for i in range(0, len(elements), BUTTONS_PER_ROW)
    ]


def fit_message(blocks: list[Block], max_blocks: int = MAX_BLOCKS) -> list[Block]:
    """The last line of defence: clamp what a renderer got wrong rather than lose the message."""
    for block in blocks:
        if isinstance(block, SectionBlock):
            if block.text is not None and len(block.text.text) > 3000:
                block.text.text = cut(block.text.text, MAX_SECTION)
            if block.fields:
                block.fields = block.fields[:10]
                for f in block.fields:
                    f.text = cut(f.text, 2000)
        if isinstance(block, ActionsBlock):
            block.elements = block.elements[:25]
    if len(blocks) <= max_blocks:
        return blocks
    last = blocks[-1] if isinstance(blocks[-1], ActionsBlock) else None
    keep = blocks[: max_blocks - (2 if last else 1)]
    note = context(f"…{len(blocks) - len(keep) - (1 if last else 0)} more blocks not shown.")
    return keep + [note] + ([last] if last else [])


# --- the dispatcher ----------------------------------------------------------------------


@singledispatch
def _render(reply: Reply, ctx: RenderContext) -> list[Block]:
    """Fallback: the terminal rendering in a preformatted block, then the reply's buttons."""
    blocks: list[Block] = [section(preformatted(render_text(reply)))]
    return blocks + action_blocks(choices(reply))


class _BlockRenderer:
    """`render_blocks(reply, ctx)`: dispatch on the reply type, then `fit_message`."""

    def register(self, cls: type, func: Callable[..., list[Block]]) -> None:
        """Called by bot/wiring.py only: the renderer of one reply type."""
        _render.register(cls, func)

    def __call__(self, reply: Reply, ctx: RenderContext | None = None) -> list[Block]:
        return fit_message(_render(reply, ctx or RenderContext()))


render_blocks = _BlockRenderer()


@singledispatch
def fallback_text(reply: Reply) -> str:
    """The notification / accessibility text of a message (escaped: no stray @channel).

    Reply types whose text rendering is costly have a cheaper summary (`FALLBACK_TEXTS`,
    installed by bot/wiring.py: `StatusReply`).
    """
    lines = render_text(reply).splitlines() or [""]
    return escape(lines_within(lines, 300, lambda n: "…"))


# --- small replies -----------------------------------------------------------------------


def message_blocks(reply: MessageReply, ctx: RenderContext) -> list[Block]:
    text = escape(reply.text)
    blocks: list[Block] = [section(f":warning: {text}" if reply.error else text, "message")]
    return blocks + action_blocks(reply.choices, block_prefix="message_act")


def help_blocks(reply: HelpReply, ctx: RenderContext) -> list[Block]:
    text = reply.text
    body = preformatted(text) if "\n" in text else escape(text)
    return [section(body, "help")] + action_blocks(
        (), block_prefix="help_act", extra=[share_button()]
    )


def confirm_blocks(reply: ConfirmReply, ctx: RenderContext) -> list[Block]:
    targets = [f"• {code(t, 150)}" for t in reply.targets]
    listed = lines_within(targets, MAX_SECTION - 100, lambda n: f"…and {n} more")
    return [
        section(f":raised_hand: *{escape(reply.question)}*", "confirm_question"),
        section(listed or "-", "confirm_targets"),
        *action_blocks(choices(reply), block_prefix="confirm_act"),
    ]


# What bot/wiring.py installs: the renderer of each reply type defined above.
BLOCK_RENDERERS: dict[type, Callable[..., list[Block]]] = {
    MessageReply: message_blocks,
    HelpReply: help_blocks,
    ConfirmReply: confirm_blocks,
}
