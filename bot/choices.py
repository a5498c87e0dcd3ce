"""The buttons of each answer, as `/sup` commands: Slack draws them as buttons, the console as
numbered choices. Every click is parsed and authorized again like typed text."""

from __future__ import annotations

from collections.abc import Callable
from functools import singledispatch

from bot.domain import ProcessInfo
from bot.grammar import quote
from bot.replies import (
    ActionReply,
    Choice,
    ConfirmReply,
    DetailsReply,
    MessageReply,
    ReloadPreviewReply,
    Reply,
    StatusReply,
    TailReply,
)


def target(process: ProcessInfo, multi_node: bool) -> str:
    name = process.display_name
    return f"{name}@{process.node}" if multi_node else name


def process_choices(process: ProcessInfo, multi_node: bool, logs: bool = True) -> list[Choice]:
    """Start when stopped; Restart, Stop, Logs when running."""
    name = target(process, multi_node)
    if not process.running:
        out = [Choice(f"Start {name}", quote("start", name), "primary")]
        return out + ([Choice(f"Logs {name}", quote("tail", name))] if logs else [])
    # The button asks first (Slack confirm dialog, console y/N), so the command carries --yes:
    # a critical process must not be confirmed twice.
    out = [
        Choice(f"Restart {name}", quote("restart", name, "--yes"), "", f"Restart {name}?"),
        Choice(f"Stop {name}", quote("stop", name, "--yes"), "danger", f"Stop {name}?"),
    ]
    return out + ([Choice(f"Logs {name}", quote("tail", name))] if logs else [])


@singledispatch
def choices(reply: Reply) -> list[Choice]:
    return []


def status_choices(reply: StatusReply) -> list[Choice]:
    multi = len({n.node for n in reply.view.nodes}) > 1
    out: list[Choice] = []
    for p in reply.view.processes:
        out += process_choices(p, multi)
    return out


def details_choices(reply: DetailsReply) -> list[Choice]:
    return process_choices(reply.details.process, multi_node=True)


def tail_choices(reply: TailReply) -> list[Choice]:
    t = reply.tail
    words = ["tail", t.process + "@" + t.node, str(t.requested)]
    if t.stream == "stderr":
        words.append("--stderr")
    if t.search is not None:  # Refresh runs the same search again
        words += ["--grep", t.search.pattern] + (["-i"] if t.search.ignore_case else [])
        words += ["-C", str(t.search.context)] if t.search.context else []
    return [Choice("Refresh", quote(*words))]


def confirm_choices(reply: ConfirmReply) -> list[Choice]:
    return [Choice("Confirm", reply.confirm_command, "danger"), Choice("Cancel", "cancel")]


def reload_preview_choices(reply: ReloadPreviewReply) -> list[Choice]:
    if reply.empty:
        return []
    fingerprints = [d.fingerprint for d in reply.diffs if not d.empty]
    return [
        Choice(
            "Apply", quote("reload", "--apply", *fingerprints), "primary", "Apply these changes?"
        ),
        Choice("Cancel", "cancel"),
    ]


def action_choices(reply: ActionReply) -> list[Choice]:
    return [
        Choice(f"Logs {o.process}", quote("tail", f"{o.process}@{o.node}", "--stderr"))
        for o in reply.report.outcomes
        if not o.ok
    ]


def message_choices(reply: MessageReply) -> list[Choice]:
    return list(reply.choices)


# What bot/wiring.py installs: the renderer of each reply type defined above.
CHOICES: dict[type, Callable[..., list[Choice]]] = {
    StatusReply: status_choices,
    DetailsReply: details_choices,
    TailReply: tail_choices,
    ConfirmReply: confirm_choices,
    ReloadPreviewReply: reload_preview_choices,
    ActionReply: action_choices,
    MessageReply: message_choices,
}
