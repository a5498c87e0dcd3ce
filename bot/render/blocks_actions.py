"""Outcomes posted in the channel: start/stop/restart/signal/clear, and reload (preview, result).

"Restarted by @alice — RUNNING, pid 1234 (2.1 s)" per process; many outcomes are grouped
(N ok, M failed) and the first failures get their spawn error and log tail.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from slack_sdk.models.blocks import Block

from bot.choices import choices
from bot.domain import ActionOutcome, ReloadDiff
from bot.render.blocks import (
    BUTTONS_PER_ROW,
    MAX_SECTION,
    RenderContext,
    action_blocks,
    code,
    cut,
    escape,
    lines_within,
    mention,
    plural,
    preformatted,
    section,
)
from bot.replies import ActionReply, ReloadPreviewReply, ReloadReply

PAST = {
    "start": "Started",
    "stop": "Stopped",
    "restart": "Restarted",
    "signal": "Signalled",
    "clear": "Cleared the log",
}
INLINE_OUTCOMES = 8  # up to this many, one line each; more are grouped
DETAILED_FAILURES = 3  # failures shown with spawn error and log tail
TAIL_CHARS = 1200


def _name(o: ActionOutcome, multi: bool) -> str:
    return f"*{escape(o.process)}*" + (f" @{escape(o.node)}" if multi else "")


def outcome_line(o: ActionOutcome, who: str, multi: bool) -> str:
    """`✅ *web*: Restarted by <@U1> — RUNNING, pid 1234 (2.1 s)`."""
    took = f"({o.seconds:.1f} s)"
    if o.ok:
        verb = PAST.get(o.action, o.action.capitalize())
        return f":white_check_mark: {_name(o, multi)}: {verb} by {who} — {escape(cut(o.message, 300))} {took}"
    verb = o.action.capitalize()
    return f":x: {_name(o, multi)}: {verb} by {who} failed — {escape(cut(o.message, 300))} {took}"


def failure_detail(o: ActionOutcome, multi: bool) -> str:
    lines = [f":x: {_name(o, multi)}: {escape(cut(o.message, 300))}"]
    if o.spawnerr:
        lines.append(f"Spawn error: {code(o.spawnerr, 300)}")
    if o.log_tail:
        lines.append(preformatted(o.log_tail, TAIL_CHARS))
    return "\n".join(lines)


def action_reply_blocks(reply: ActionReply, ctx: RenderContext) -> list[Block]:
    report = reply.report
    who = mention(reply.actor_mention or report.actor)
    outcomes = report.outcomes
    multi = len({o.node for o in outcomes}) > 1
    failed = [o for o in outcomes if not o.ok]
    blocks: list[Block] = []
    if not outcomes:
        blocks.append(section(f"Nothing to do for {code(report.pattern)}.", "action_none"))
    elif len(outcomes) <= INLINE_OUTCOMES:
        lines = [outcome_line(o, who, multi) for o in outcomes]
        blocks.append(section(lines_within(lines, MAX_SECTION, _more), "action_outcomes"))
    else:
        verb = PAST.get(report.action, report.action.capitalize())
        ok = len(outcomes) - len(failed)
        head = f"*{verb} by {who}*: {ok} ok, {len(failed)} failed ({report.seconds:.1f} s)"
        blocks.append(section(head, "action_head"))
        done = [_name(o, multi) for o in outcomes if o.ok]
        if done:
            listed = lines_within(done, 1500, _more)
            blocks.append(section(":white_check_mark: " + listed.replace("\n", ", "), "action_ok"))
        if failed:
            lines = [f":x: {_name(o, multi)}: {escape(cut(o.message, 200))}" for o in failed]
            blocks.append(section(lines_within(lines, 2000, _more), "action_failed"))
    detailed = [o for o in failed if o.spawnerr or o.log_tail][:DETAILED_FAILURES]
    for i, o in enumerate(detailed):
        blocks.append(section(failure_detail(o, multi), f"action_fail_{i}"))
    # One row of Logs buttons, for the failures most worth a look.
    return blocks + action_blocks(choices(reply)[:BUTTONS_PER_ROW], block_prefix="action_act")


def _more(n: int) -> str:
    return f"…and {n} more"


def diff_lines(d: ReloadDiff) -> list[str]:
    out = []
    for mark, label, groups in (
        (":heavy_plus_sign:", "added", d.added),
        (":pencil2:", "changed", d.changed),
        (":heavy_minus_sign:", "removed", d.removed),
    ):
        if groups:
            names = lines_within([code(g, 100) for g in groups], 800, _more).replace("\n", ", ")
            out.append(f"{mark} {label}: {names}")
    return out


def _per_node(texts: Sequence[str], prefix: str, budget: int = 8000) -> list[Block]:
    """One section per node while the message has room; the rest by their first line only."""
    blocks: list[Block] = []
    used = 0
    for i, text in enumerate(texts):
        if used + len(text) > budget or i == 40:
            firsts = [t.split("\n", 1)[0] for t in texts[i:]]
            room = min(MAX_SECTION, max(300, budget - used))
            blocks.append(section(lines_within(firsts, room, _more), f"{prefix}_rest"))
            break
        blocks.append(section(text, f"{prefix}_{i}"))
        used += len(text)
    return blocks


def reload_preview_blocks(reply: ReloadPreviewReply, ctx: RenderContext) -> list[Block]:
    if reply.empty:
        text = ":white_check_mark: *No changes*: the configuration on disk matches what is running."
        return [section(text, "reload_none")]
    texts = [f"*{escape(d.node)}*\n" + "\n".join(diff_lines(d)) for d in reply.diffs if not d.empty]
    changed = plural(len(texts), "node")
    head = section(f":arrows_counterclockwise: *Reload would change* {changed}:", "reload_head")
    return [head, *_per_node(texts, "reload_node")] + action_blocks(
        choices(reply), block_prefix="reload_act"
    )


def reload_blocks(reply: ReloadReply, ctx: RenderContext) -> list[Block]:
    if not reply.results:
        return [section("No changes applied.", "reloaded_none")]
    who = mention(reply.actor_mention) if reply.actor_mention else "someone"
    texts = []
    for r in reply.results:
        mark, word = (":white_check_mark:", "applied") if r.ok else (":x:", "*failed*")
        lines = [f"{mark} *{escape(r.diff.node)}* {word}", *diff_lines(r.diff)]
        lines += [f"• {escape(cut(m, 300))}" for m in r.messages]
        texts.append(lines_within(lines, MAX_SECTION, _more))
    ok = sum(r.ok for r in reply.results)
    head = (
        f":arrows_counterclockwise: *Reload by {who}*: {ok} of {plural(len(texts), 'node')} applied"
    )
    return [section(head, "reloaded_head"), *_per_node(texts, "reloaded_node")]


# What bot/wiring.py installs: the renderer of each reply type defined above.
BLOCK_RENDERERS: dict[type, Callable[..., list[Block]]] = {
    ActionReply: action_reply_blocks,
    ReloadPreviewReply: reload_preview_blocks,
    ReloadReply: reload_blocks,
}
