"""App Home in Block Kit: for each channel binding that names the user, its totals and its
processes (crashed first) with the same buttons as `status`, each with its memory sparkline of
the last hour and its restarts of the last 24 h when they are known (a line of the row's own
section: no extra blocks). At most 100 blocks (Slack's limit
for a Home tab); what does not fit is summarised per group.

Block ids of a binding's rows are `home:<channel>:…`; `home_channel(block_id)` reads the
channel back, should a click need to say which binding it came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from slack_sdk.models.blocks import Block, DividerBlock

from bot.processes import StatusView
from bot.render.blocks import (
    MAX_HOME_BLOCKS,
    context,
    escape,
    fit_message,
    header,
    lines_within,
    section,
    slack_date,
)
from bot.render.blocks_status import group_summary, ordered, overview_text, process_blocks
from bot.render.usage import recent_line
from bot.samples_records import RecentHistory

History = Mapping[tuple[str, str], RecentHistory]  # (node, group:name) → its recent history

NO_GRANTS = (
    "You are not named in any channel binding, so there is nothing to show here. "
    'Home shows the processes of bindings that name you by user ID or user group (`"*"` '
    "grants nothing on Home). Ask an admin to add you to a `[[channels]]` binding, or use "
    "`/sup` in a bound channel."
)
ROWS_PER_BINDING = 10
HOME_TEXT = 24_000  # shared by the bindings' totals and summaries
ROW_BLOCKS = 2  # a process line and its buttons
FIXED_PER_BINDING = 3  # title, summary, divider


def _channel_link(channel: str) -> str:
    return f"<#{channel}>" if re.fullmatch(r"[A-Z0-9]+", channel) else f"*{escape(channel)}*"


def home_channel(block_id: str) -> str:
    """The binding channel of a Home row's block id, or "" for any other block."""
    parts = block_id.split(":")
    return parts[1] if len(parts) == 3 and parts[0] == "home" else ""


def _binding_blocks(
    channel: str, view: StatusView, rows: int, chars: int, history: History
) -> list[Block]:
    multi = len(view.nodes) > 1
    processes = ordered(view.processes)
    shown = processes[:rows]
    where = _channel_link(channel) if channel else "a bound channel"
    title = f"{_channel_link(channel)}\n{overview_text(view)}" if channel else overview_text(view)
    blocks: list[Block] = [
        section(lines_within(title.splitlines(), chars, _more), f"home:{channel}:t")
    ]
    for i, p in enumerate(shown):
        known = history.get((p.node, p.full_name))
        note = recent_line(known) if known else ""
        blocks += process_blocks(p, multi, f"home:{channel}:p{i}", note)
    rest = processes[len(shown) :]
    if rest:
        summary = group_summary(sorted(rest, key=lambda p: p.node), multi, chars, "Not shown here")
        summary += f"\n_Use `/sup status` in {where} for every process._"
        blocks.append(section(summary, f"home:{channel}:rest"))
    elif not processes:
        blocks.append(section("_No processes to show._", f"home:{channel}:empty"))
    return blocks + [DividerBlock(block_id=f"home:{channel}:div")]


def _more(n: int) -> str:
    return f"…and {n} more"


def render_home(
    sections: Sequence[tuple[str, StatusView]] | StatusView, history: History | None = None
) -> list[Block]:
    """The Home tab: one part per binding that names the user, or why there is nothing.

    A bare StatusView (everything the user may see, bindings merged) renders as one part.
    """
    parts = [("", sections)] if isinstance(sections, StatusView) else list(sections)
    blocks: list[Block] = [header("Your processes", "home_head")]
    if not parts:
        return blocks + [section(NO_GRANTS, "home_none")]
    room = MAX_HOME_BLOCKS - 2 - FIXED_PER_BINDING * len(parts)
    rows = max(0, min(ROWS_PER_BINDING, room // (ROW_BLOCKS * len(parts))))
    chars = max(300, min(1500, HOME_TEXT // (2 * len(parts))))
    used = len(blocks)
    for k, (channel, view) in enumerate(parts):
        part = _binding_blocks(channel, view, rows, chars, history or {})
        if used + len(part) > MAX_HOME_BLOCKS - 2:
            left = lines_within([_channel_link(c) for c, _ in parts[k:]], 1400, _more)
            blocks.append(section("Also bound to you:\n" + left, "home_more"))
            break
        blocks += part
        used += len(part)
    fetched = [n.fetched_at for _, v in parts for n in v.nodes]
    if fetched:
        blocks.append(context(f"Updated {slack_date(min(fetched))}", block_id="home_ctx"))
    return fit_message(blocks, MAX_HOME_BLOCKS)
