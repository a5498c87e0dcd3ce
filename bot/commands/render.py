"""Replies of the `commands` and `run` verbs, their buttons and their terminal rendering.

Slack rendering of the same replies lives in `render_slack.py`; bot/wiring.py installs the
tables at the bottom of both modules.

For `/sup run` in Slack: post a regular message with `render_blocks(CommandRunReply.started(
name, args, mention))`, then call `bot.commands.verbs.run_allowed_command(services.commands,
access, command, on_progress)`: `on_progress(reply)` receives a running `CommandRunReply` every
few seconds (chat.update it) and the final reply is returned. When `reply.too_long`, upload
`reply.output` as a file (`reply.filename`): the message shows only its last lines.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.commands.service import CommandResult
from bot.commands.spec import CommandSpec
from bot.grammar import quote
from bot.replies import Choice, PublicReply, Reply
from bot.runs.execute import MESSAGE_OUTPUT


@dataclass(frozen=True)
class CommandsReply(Reply):
    commands: tuple[CommandSpec, ...]
    runnable: frozenset[str] = frozenset()
    discovery_errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class CommandRunReply(PublicReply):
    """A command's progress (`running`) or its result; public, like any action."""

    name: str
    args: tuple[str, ...]
    output: str = ""
    running: bool = True
    exit_code: int | None = None
    duration: float = 0.0
    error: str = ""
    actor_mention: str = ""
    again: str = ""  # the /sup text that runs it again, when it is not `run NAME ARGS…`
    shown_as: str = ""  # what ran, when it is not `NAME ARGS…` (Laravel's schedule:run)

    @property
    def shown(self) -> str:
        return self.shown_as or self.command_text[4:]

    @property
    def ok(self) -> bool:
        return not self.running and self.exit_code == 0 and not self.error

    @property
    def too_long(self) -> bool:
        return len(self.output) > MESSAGE_OUTPUT

    @property
    def filename(self) -> str:
        return f"{self.name.replace(':', '-')}-output.txt"

    @property
    def command_text(self) -> str:
        return self.again or quote("run", self.name, *self.args)

    @classmethod
    def started(cls, name: str, args: tuple[str, ...], actor_mention: str = "") -> CommandRunReply:
        return cls(name, tuple(args), actor_mention=actor_mention)

    @classmethod
    def finished(
        cls, result: CommandResult, actor_mention: str = "", again: str = "", shown_as: str = ""
    ) -> CommandRunReply:
        return cls(
            result.name,
            result.args,
            result.output,
            False,
            result.exit_code,
            result.duration,
            result.error,
            actor_mention,
            again,
            shown_as,
        )


# --- choices ---------------------------------------------------------------------------------


def commands_choices(reply: CommandsReply) -> list[Choice]:
    return [
        Choice(f"Run {c.name}", quote("run", c.name), "", f"Run {c.name}?")
        for c in reply.commands
        if c.name in reply.runnable and c.args is None
    ][:20]


def command_run_choices(reply: CommandRunReply) -> list[Choice]:
    if reply.running:
        return []
    return [Choice("Run again", reply.command_text, "", f"Run `{reply.command_text}` again?")]


# --- terminal ---------------------------------------------------------------------------------


def commands_text(reply: CommandsReply) -> str:
    if not reply.commands:
        lines = ["No commands available here."]
    else:
        width = max(len(c.name) for c in reply.commands)
        lines = []
        for c in reply.commands:
            args = f"  (args: {c.args})" if c.args else ""
            lines.append(f"{c.name.ljust(width)}  {c.description}{args}")
    lines += [f"! discovery failed: {e}" for e in reply.discovery_errors]
    return "\n".join(lines)


def command_run_text(reply: CommandRunReply) -> str:
    head = f"$ {reply.shown}"
    if reply.running:
        return f"{head}  (running…)\n{reply.output}".rstrip()
    status = "ok" if reply.ok else "FAILED"
    tail = f"exit code {reply.exit_code} ({status}) in {reply.duration:.1f}s"
    if reply.error:
        tail += f" — {reply.error}"
    return "\n".join(x for x in (head, reply.output, tail) if x)


# What bot/wiring.py installs: the renderer of each reply type defined above.
CHOICES: dict[type, Callable[..., list[Choice]]] = {
    CommandsReply: commands_choices,
    CommandRunReply: command_run_choices,
}
TEXT_RENDERERS: dict[type, Callable[..., str]] = {
    CommandsReply: commands_text,
    CommandRunReply: command_run_text,
}
