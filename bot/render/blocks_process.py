"""`info` and `tail` in Slack: one process in detail, and its log lines.

A log too long for a message is not cut to fit: the message carries the newest lines and the
Slack plumbing uploads the whole text as a file (`tail_needs_upload`, `tail_file_content`).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from slack_sdk.models.blocks import Block, MarkdownTextObject, SectionBlock

from bot.choices import choices
from bot.durations import format_duration
from bot.grammar import quote
from bot.render.blocks import (
    MAX_FIELD,
    MAX_SECTION,
    RenderContext,
    action_blocks,
    code,
    context,
    cut,
    escape,
    header,
    plural,
    preformatted,
    section,
    share_button,
    slack_date,
)
from bot.render.blocks_status import state_emoji
from bot.render.text import search_summary
from bot.render.usage import history_lines, sampled_note
from bot.replies import Choice, DetailsReply, TailReply

# Log text shown inline: up to three sections of preformatted text. Longer → a file.
TAIL_INLINE_CHARS = 7500
TAIL_PREVIEW_LINES = 15
RAW_PIECE = 500  # a raw log line is split at this length: escaped it stays within a section


def details_blocks(reply: DetailsReply, ctx: RenderContext) -> list[Block]:
    d = reply.details
    p = d.process
    word = p.state + (" (unexpected exit)" if p.crashed and p.state == "EXITED" else "")
    fields = [
        f"*State*\n{state_emoji(p)} {word}",
        f"*Node*\n{escape(p.node)}",
        f"*PID*\n{p.pid or '-'}",
        f"*Uptime*\n{format_duration(p.uptime)}",
        f"*Started*\n{slack_date(p.start) if p.start else '-'}",
        f"*Last exit*\n{_last_exit(p.stop, p.exitstatus, p.expected_exit)}",
    ]
    if p.memory_rss is not None:
        fields.append(f"*Memory*\n{p.memory_rss / 1048576:.1f} MiB{sampled_note(d)}")
    if p.cpu_percent is not None:
        fields.append(f"*CPU*\n{p.cpu_percent:.1f}%{sampled_note(d)}")
    fields += [f"*{label.capitalize()}*\n`{line}`" for label, line in history_lines(d)]
    about = []
    if p.spawnerr:
        about.append(f":x: *Spawn error*: {escape(cut(p.spawnerr, 800))}")
    if p.description:
        about.append(f"*Description*: {escape(cut(p.description, 500))}")
    if p.command:
        about.append(f"*Command*: {code(p.command, 1200)}")
    blocks: list[Block] = [
        header(f"{p.display_name} on {p.node}", "info_head"),
        SectionBlock(
            block_id="info_fields",
            fields=[MarkdownTextObject(text=cut(f, MAX_FIELD)) for f in fields],
        ),
    ]
    if about:
        blocks.append(section("\n".join(about), "info_about"))
    if d.log_preview:
        preview = preformatted("\n".join(d.log_preview), MAX_SECTION - 40)
        blocks.append(section(f"*Last log lines*\n{preview}", "info_log"))
    refresh = Choice("Refresh", quote("info", f"{p.display_name}@{p.node}"))
    return blocks + action_blocks(
        [*choices(reply), refresh], block_prefix="info_act", extra=[share_button()]
    )


def _last_exit(stop: int, status: int, expected: bool | None) -> str:
    if not stop:
        return "-"
    how = {True: "expected", False: "*unexpected*", None: ""}[expected]
    return f"{status} {how}".strip() + f"\n{slack_date(stop)}"


def _pieces(lines: tuple[str, ...]) -> list[str]:
    """Escaped lines, very long ones split, so any one of them fits a section."""
    out = []
    for line in lines:
        raw = line.replace("```", "`\u200b`\u200b`")
        out += [escape(raw[i : i + RAW_PIECE]) for i in range(0, max(1, len(raw)), RAW_PIECE)]
    return out


def _chunks(pieces: list[str], limit: int) -> list[str]:
    """Pieces joined into texts of at most `limit` characters."""
    chunks: list[list[str]] = [[]]
    used = 0
    for piece in pieces:
        if chunks[-1] and used + len(piece) + 1 > limit:
            chunks.append([])
            used = 0
        chunks[-1].append(piece)
        used += len(piece) + 1
    return ["\n".join(c) for c in chunks if c]


def tail_needs_upload(reply: TailReply) -> bool:
    """True when the lines do not fit a message: upload `tail_file_content` as a file."""
    if reply.follow:
        return False  # a followed log shows its newest lines; it is edited, not re-uploaded
    return sum(len(p) + 1 for p in _pieces(reply.tail.lines)) > TAIL_INLINE_CHARS


def tail_file_content(reply: TailReply) -> str:
    """The whole tail as plain text (already redacted by the service), for files_upload_v2."""
    return "\n".join(reply.tail.lines) + "\n"


def tail_filename(reply: TailReply) -> str:
    """`web-node1-stdout.log`: a safe file name for the upload."""
    t = reply.tail
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{t.process}-{t.node}-{t.stream}") + ".log"


def tail_blocks(reply: TailReply, ctx: RenderContext) -> list[Block]:
    t = reply.tail
    count = len(t.lines)
    head = f":page_facing_up: {code(t.process + '@' + t.node)} {t.stream}, "
    if t.search is not None:
        head = f":mag: {code(t.process + '@' + t.node)} {t.stream}, "
        head += escape(search_summary(t.search))
    else:
        head += f"last {plural(count, 'line')}" + (" (log was longer)" if t.truncated else "")
    blocks: list[Block] = [section(head, "tail_head")]
    pieces = _pieces(t.lines)
    upload = tail_needs_upload(reply)
    if not t.lines and t.search is not None:
        pass  # the head says "no match" and how far it looked
    elif not t.lines:
        blocks.append(section("_The log is empty._", "tail_empty"))
    elif upload or sum(len(p) + 1 for p in pieces) > TAIL_INLINE_CHARS:
        # Newest lines inline; the whole text goes to a file (or, when following, is dropped).
        shown = _chunks(pieces[-TAIL_PREVIEW_LINES:], MAX_SECTION - 20)[-1]
        blocks.append(section(f"```{shown}```", "tail_0"))
        note = f"Too long for a message: all {plural(count, 'line')} are attached as a file."
        if reply.follow:
            note = "Showing the newest lines."
        blocks.append(context(note, block_id="tail_note"))
    else:
        for i, chunk in enumerate(_chunks(pieces, MAX_SECTION - 20)):
            blocks.append(section(f"```{chunk}```", f"tail_{i}"))
    return blocks + action_blocks(choices(reply), block_prefix="tail_act", extra=[share_button()])


# What bot/wiring.py installs: the renderer of each reply type defined above.
BLOCK_RENDERERS: dict[type, Callable[..., list[Block]]] = {
    DetailsReply: details_blocks,
    TailReply: tail_blocks,
}
