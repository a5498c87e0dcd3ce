"""Slack message payloads from replies: the blocks renderer's output plus Slack-only extras
(the "Share in channel" button, progress lines, the follow Stop button)."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import ActionsBlock

from bot.grammar import Command
from bot.render.blocks import (
    MAX_BLOCKS,
    SHARE_ACTION_ID,
    RenderContext,
    code,
    context,
    fallback_text,
    render_blocks,
    section,
    share_button,
    strip_share,
)
from bot.replies import MessageReply, Reply, StatusReply
from bot.slack.fastpath import status_payload
from bot.slack.webapi import Payload

SHARE_ACTION = SHARE_ACTION_ID
# Read-only answers: shown to the asker only, with a button to share them.
READ_ONLY = {"status", "info", "tail", "jobs", "commands", "help", "job", "snooze", "incidents"}
READ_ONLY |= {"silences"}
PROGRESS = {
    "start": "Starting",
    "stop": "Stopping",
    "restart": "Restarting",
    "signal": "Signalling",
    "clear": "Clearing the log of",
    "reload": "Applying reload on",
    "run": "Running",
}


def shareable(reply: Reply, command: Command | None) -> bool:
    if command is None or command.verb not in READ_ONLY:
        return False
    return not (isinstance(reply, MessageReply) and reply.error)


def message(
    reply: Reply, command: Command | None = None, share: bool = False, note: str = ""
) -> Payload:
    """`text` + `blocks` for chat.postMessage / chat.update / response_url (see `_message`).
    A status answer is built once for everyone asking about the same read (bot/slack/fastpath.py).
    """
    if not isinstance(reply, StatusReply):
        return _message(reply, command, share, note)
    text = command.text if command else ""
    return status_payload(reply, text, share, note, lambda: _message(reply, command, share, note))


def _message(reply: Reply, command: Command | None, share: bool, note: str) -> Payload:
    """`share`: keep (or add) the "Share in channel" button, its value set to the command text so
    a click re-runs the command for the clicker (ephemeral messages are not in click payloads).
    """
    blocks = [b.to_dict() for b in render_blocks(reply, RenderContext())]
    if not share or command is None:
        blocks = strip_share(blocks)
    elif not _set_share_value(blocks, command.text):
        blocks.append(share_block(command.text).to_dict())
    if note:
        blocks.append(context(note).to_dict())
    if len(blocks) > MAX_BLOCKS:
        blocks = blocks[: MAX_BLOCKS - 1] + blocks[-1:]
    return {"text": fallback_text(reply), "blocks": blocks}


def _set_share_value(blocks: list[dict[str, Any]], command_text: str) -> bool:
    found = False
    for block in blocks:
        for element in block.get("elements", []) if block.get("type") == "actions" else []:
            if element.get("action_id") == SHARE_ACTION:
                element["value"] = command_text[:2000] or "status"
                found = True
    return found


def share_block(command_text: str) -> ActionsBlock:
    return ActionsBlock(block_id="sup_share", elements=[share_button(command_text)])


def shared(reply: Reply, command: Command, user: str) -> Payload:
    return message(reply, command, note=f"Shared by <@{user}> · {code('/sup ' + command.text)}")


def progress(command: Command, mention: str) -> Payload:
    """The placeholder an action shows while it runs (restart can take stopwaitsecs)."""
    doing = PROGRESS.get(command.verb, "Working on")
    what = " ".join(command.args) if command.verb != "reload" else "the configuration"
    text = f":hourglass_flowing_sand: {doing} {code(what, 200)}… (requested by {mention})"
    return {"text": text, "blocks": [section(text).to_dict()]}


def plain(text: str) -> Payload:
    return {
        "text": text[:300],
        "blocks": [section(text).to_dict()],
    }
