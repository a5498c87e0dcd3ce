"""`status` in Slack: totals per node, one row with buttons per process, paged for big fleets.

A page holds `RenderContext.page_size` processes with buttons (crashed first); the others are
summarised per group in one section, and "Show more" asks for the next page with `--page N`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import replace

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, DividerBlock

from bot.choices import process_choices
from bot.domain import ProcessInfo, Totals
from bot.durations import format_duration
from bot.grammar import quote
from bot.processes import StatusView
from bot.render.blocks import (
    BUTTONS_PER_ROW,
    MAX_SECTION,
    RenderContext,
    button,
    code,
    context,
    escape,
    header,
    lines_within,
    plural,
    section,
    share_button,
)
from bot.render.text import STATE_CONSEQUENCE, totals_line
from bot.render.usage import node_usage_line
from bot.replies import Choice, StatusReply
from bot.usertext import visible

STATE_EMOJI = {
    "RUNNING": ":large_green_circle:",
    "STARTING": ":large_yellow_circle:",
    "STOPPING": ":large_yellow_circle:",
    "BACKOFF": ":red_circle:",
    "FATAL": ":red_circle:",
}


def state_emoji(p: ProcessInfo) -> str:
    if p.crashed:
        return ":red_circle:"
    return STATE_EMOJI.get(p.state, ":white_circle:")


def process_line(p: ProcessInfo, multi: bool) -> str:
    """`🟢 *web* @node1 · RUNNING · pid 1234 · up 3h 2m` (crash details when crashed)."""
    name = f"*{escape(p.display_name)}*" + (f" @{escape(p.node)}" if multi else "")
    parts = [f"{state_emoji(p)} {name}", f"`{p.state}`"]
    if p.pid:
        parts.append(f"pid {p.pid}")
    if p.uptime is not None:
        parts.append(f"up {format_duration(p.uptime)}")
    if p.state == "EXITED" and p.stop:
        parts.append(f"exit {p.exitstatus}{'' if p.expected_exit else ', unexpected'}")
    if p.spawnerr:
        parts.append(code(p.spawnerr, 150))
    return " · ".join(parts)


def row_choices(p: ProcessInfo) -> list[Choice]:
    """Start when stopped; Restart, Stop, Logs when running. Always name@node, so a click
    acts on exactly this process even when the same name runs on several nodes."""
    return [replace(c, label=c.label.split(" ", 1)[0]) for c in process_choices(p, True)]


def process_blocks(p: ProcessInfo, multi: bool, block_id: str, note: str = "") -> list[Block]:
    """One process: its line (and a `note` line under it), then its buttons."""
    elements = [button(c, f"{block_id}_{j}") for j, c in enumerate(row_choices(p))]
    return [
        section(process_line(p, multi) + (f"\n{note}" if note else ""), block_id),
        ActionsBlock(block_id=f"{block_id}_act", elements=elements),
    ]


def ordered(processes: Sequence[ProcessInfo]) -> list[ProcessInfo]:
    """Crashed first; otherwise the order supervisor gives (node, then group and name)."""
    return sorted(processes, key=lambda p: not p.crashed)


def totals_text(t: Totals) -> str:
    out = f"*{t.total}* total · :large_green_circle: {t.running} running · "
    out += f":white_circle: {t.stopped} stopped"
    return out + (f" · :red_circle: *{t.crashed} crashed*" if t.crashed else " · 0 crashed")


def overview_text(view: StatusView) -> str:
    """Totals, then one line per node when there are several, and every unreachable node."""
    lines = [totals_text(view.totals)]
    per_node = view.totals_by_node()
    for n in view.nodes:
        if n.error:
            lines.append(f":warning: *{escape(n.node)}* unreachable ({escape(n.error)})")
        elif len(view.nodes) > 1:
            lines.append(f"*{escape(n.node)}*: {totals_text(per_node[n.node])}")
    return lines_within(lines, MAX_SECTION, lambda k: f"…and {plural(k, 'more node')}")


def group_summary(
    processes: Sequence[ProcessInfo],
    multi: bool,
    limit: int = MAX_SECTION,
    title: str = "Not on this page",
) -> str:
    """`*worker* @node1 — 118 running · 2 crashed`, one line per group."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    for p in processes:
        counts.setdefault((p.node, p.group), Counter())[p.bucket] += 1
    lines = []
    for (node, group), c in counts.items():
        name = f"*{escape(group)}*" + (f" @{escape(node)}" if multi else "")
        states = [f"{c['running']} running"] if c["running"] else []
        states += [f"{c['stopped']} stopped"] if c["stopped"] else []
        states += [f":red_circle: {c['crashed']} crashed"] if c["crashed"] else []
        lines.append(f"{name} — {' · '.join(states)}")
    head = f"*{title}* — {plural(len(processes), 'process')}:"
    more = lines_within(lines, limit - len(head) - 1, lambda k: f"…and {plural(k, 'more group')}")
    return f"{head}\n{more}"


def status_command(pattern: str, page: int = 1) -> str:
    words = (
        ["status"] + ([pattern] if pattern else []) + (["--page", str(page)] if page > 1 else [])
    )
    return quote(*words)


def snooze_note(snoozed: tuple[tuple[str, float], ...]) -> str:
    """`🔕 alerts snoozed: web until <date>, …` (a context element holds 2,000 chars)."""
    shown = [
        f"{escape(label)} until <!date^{int(until)}^{{time}}|{time.strftime('%H:%M', time.gmtime(until))} UTC>"
        for label, until in snoozed[:10]
    ]
    more = f" and {len(snoozed) - 10} more" if len(snoozed) > 10 else ""
    return "🔕 alerts snoozed: " + ", ".join(shown) + more


def cache_note(age: float) -> str:
    shown = f"{int(age)} s" if age < 60 else format_duration(age)
    return f"as of {shown} ago · `status --fresh` re-reads"


def nav_buttons(pattern: str, page: int, pages: int, left: int) -> list[ButtonElement]:
    """Previous / Show more / Refresh, then Share."""
    items = []
    if page > 1:
        items.append(Choice("Previous", status_command(pattern, page - 1)))
    if page < pages:
        items.append(Choice(f"Show more ({left})", status_command(pattern, page + 1), "primary"))
    items.append(Choice("Refresh", status_command(pattern, page)))
    return [button(c, f"status_nav_{i}") for i, c in enumerate(items)] + [share_button()]


def status_fallback(reply: StatusReply) -> str:
    # The totals say it all; the whole text table (~30 ms at 500 processes) would be cut anyway.
    return escape(totals_line(reply.view.totals))


def status_blocks(reply: StatusReply, ctx: RenderContext) -> list[Block]:
    view = reply.view
    multi = len(view.nodes) > 1
    processes = ordered(view.processes)
    size = max(1, ctx.page_size)
    pages = max(1, -(-len(processes) // size))
    page = min(max(1, ctx.page or reply.page), pages)
    first = (page - 1) * size
    shown = processes[first : first + size]
    on_page = {p.key for p in shown}
    # Summarised in supervisor's order, node by node, so each group appears once per node.
    rest = sorted((p for p in view.processes if p.key not in on_page), key=lambda p: p.node)

    title = f"Status of {visible(view.pattern)}" if view.pattern else "Status"
    blocks: list[Block] = [
        header(title, "status_head"),
        section(overview_text(view), "status_totals"),
    ]
    if reply.usage:
        usage = "\n".join(escape(node_usage_line(u)) for u in reply.usage)
        blocks.append(context(f":bar_chart: {usage}"[:MAX_SECTION], block_id="status_usage"))
    if reply.state_problem:
        problem = f":warning: {escape(reply.state_problem[:1500])} {STATE_CONSEQUENCE}"
        blocks.append(section(problem, "status_state"))
    if not processes and not any(n.error for n in view.nodes):
        blocks.append(section("No processes to show.", "status_empty"))
    if shown:
        blocks.append(DividerBlock(block_id="status_div"))
    for i, p in enumerate(shown):
        blocks += process_blocks(p, multi, f"p{first + i}")
    if rest:
        blocks.append(section(group_summary(rest, multi), "status_rest"))
    nav = nav_buttons(view.pattern, page, pages, len(processes) - first - len(shown))
    blocks += [
        ActionsBlock(block_id=f"status_nav{i}", elements=nav[i : i + BUTTONS_PER_ROW])
        for i in range(0, len(nav), BUTTONS_PER_ROW)
    ]
    notes = [f"Page {page} of {pages} · crashed first"] if pages > 1 else []
    if reply.snoozed:
        notes.append(snooze_note(reply.snoozed))
    if view.cache_age >= 1 and not reply.fresh:
        notes.append(cache_note(view.cache_age))
    if notes:
        blocks.append(context(*notes, block_id="status_ctx"))
    return blocks


# What bot/wiring.py installs: the renderer of each reply type defined above.
FALLBACK_TEXTS: dict[type, Callable[..., str]] = {
    StatusReply: status_fallback,
}
BLOCK_RENDERERS: dict[type, Callable[..., list[Block]]] = {
    StatusReply: status_blocks,
}
