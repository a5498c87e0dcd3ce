"""The `/sup` verbs commands and run, plugged into the dispatcher.

bot/wiring.py plugs `CommandVerbs(commands).handlers()` into the dispatcher. `run_allowed_command` is the
streaming form of `/sup run` for Slack (see bot/commands/render.py).
"""

from __future__ import annotations

from collections.abc import Callable

from bot.auth import Access
from bot.commands.render import CommandRunReply, CommandsReply
from bot.commands.service import CommandService
from bot.dispatch import Handler
from bot.grammar import Command
from bot.replies import Reply


class CommandVerbs:
    def __init__(self, commands: CommandService) -> None:
        self.commands = commands

    def handlers(self) -> dict[str, Handler]:
        """The verbs this feature adds to `/sup`."""
        return {"commands": self.commands_list, "run": self.run}

    def commands_list(self, access: Access, command: Command) -> Reply:
        specs = tuple(self.commands.list_commands(access))
        runnable = frozenset(
            c.name for c in specs if access.allows_named("run", "commands", c.name)
        )
        return CommandsReply(specs, runnable, tuple(self.commands.discovery_errors))

    def run(self, access: Access, command: Command) -> Reply:
        return run_allowed_command(self.commands, access, command)


def run_allowed_command(
    commands: CommandService,
    access: Access,
    command: Command,
    on_progress: Callable[[CommandRunReply], None] | None = None,
    interval: float = 3.0,
) -> CommandRunReply:
    """Run `/sup run NAME ARGS…`; `on_progress` gets a running reply every `interval` s."""
    name, args = command.args[0], tuple(command.args[1:])
    who = access.actor.mention

    def progress(output: str) -> None:
        if on_progress is not None:
            on_progress(CommandRunReply(name, args, output, True, actor_mention=who))

    result = commands.run(access, name, args, progress if on_progress else None, interval)
    return CommandRunReply.finished(result, who)
