"""Slack Block Kit for the `commands` and `run` replies (pure: no network)."""

from __future__ import annotations

from collections.abc import Callable

from slack_sdk.models.blocks import Block

from bot.choices import choices
from bot.commands.render import CommandRunReply, CommandsReply
from bot.render.blocks import (
    MAX_SECTION,
    RenderContext,
    action_blocks,
    code,
    context,
    escape,
    lines_within,
    mention,
    preformatted,
    section,
)
from bot.runs.execute import MESSAGE_OUTPUT


def commands_blocks(reply: CommandsReply, ctx: RenderContext) -> list[Block]:
    if not reply.commands:
        blocks: list[Block] = [section("No commands available in this channel.", "commands")]
    else:
        lines = []
        for c in reply.commands:
            args = f" — arguments: {code(c.args)}" if c.args else ""
            lines.append(f"• {code(c.name)} {escape(c.description)}{args}")
        body = lines_within(lines, MAX_SECTION, lambda n: f"…and {n} more (`supbot commands`)")
        blocks = [section(body, "commands")]
    if reply.discovery_errors:
        errs = "; ".join(reply.discovery_errors)
        blocks.append(context(f":warning: discovery failed: {escape(errs)}"))
    return blocks + action_blocks(choices(reply), block_prefix="commands_act")


def command_run_blocks(reply: CommandRunReply, ctx: RenderContext) -> list[Block]:
    who = f" by {mention(reply.actor_mention)}" if reply.actor_mention else ""
    head = f"{code(reply.shown, 300)}{who}"
    if reply.running:
        status = ":hourglass_flowing_sand: running…"
    else:
        mark = ":white_check_mark:" if reply.ok else ":x:"
        status = f"{mark} exit code {reply.exit_code} in {reply.duration:.1f}s"
        if reply.error:
            status += f" — {escape(reply.error)}"
    blocks: list[Block] = [section(f"{head}\n{status}", "run_head")]
    if reply.output:
        blocks.append(section(preformatted(reply.output, MESSAGE_OUTPUT), "run_output"))
    if reply.too_long and not reply.running:
        blocks.append(context("Output shortened to its last lines."))
    return blocks + action_blocks(choices(reply), block_prefix="run_act")


# What bot/wiring.py installs: the renderer of each reply type defined above.
BLOCK_RENDERERS: dict[type, Callable[..., list[Block]]] = {
    CommandsReply: commands_blocks,
    CommandRunReply: command_run_blocks,
}
