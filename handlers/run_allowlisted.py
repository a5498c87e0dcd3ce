"""`/sup run NAME [ARGS…]` in Slack — allow-listed `[[commands]]`, not scheduled jobs: a regular
channel message, edited as the output comes.

Every refusal (unknown command, role, arguments) happens before anything runs and is a
one-sentence private answer (CommandService audits it). Then the message is posted, edited with
the output so far (redacted by CommandService) every few seconds, and finally shows the exit
code and duration; output longer than a message goes up as a file in the message's thread.
Where supbot cannot post (App Home, a channel it is not in) the outcome alone is answered.
"""

from __future__ import annotations

from collections.abc import Callable

from bot import errors
from bot.auth import Access
from bot.commands.render import CommandRunReply
from bot.commands.verbs import run_allowed_command
from bot.grammar import Command
from bot.replies import MessageReply
from bot.runs.execute import TAIL_BYTES, TAIL_LINES
from bot.slack.live import LiveMessage
from bot.slack.webapi import post, upload
from handlers import compose
from handlers.context import Outlet, SlackBot

PROGRESS_EVERY = 3.0  # seconds between edits: ~20 a minute, within chat.update's ~50


def stream_allowlisted_run(bot: SlackBot, access: Access, command: Command, outlet: Outlet) -> None:
    commands = bot.services.commands
    name, args = command.args[0], tuple(command.args[1:])
    try:
        commands.check(access, name, args)
    except errors.SupbotError as exc:
        outlet.reply(MessageReply(str(exc), error=True), command)
        return
    started = CommandRunReply.started(name, args, access.actor.mention)
    ts = post(bot.client, outlet.channel, compose.message(started)) if outlet.channel else None
    if ts is None:
        outlet.reply(_run(bot, access, command), command)
        return
    live = LiveMessage(bot.client, outlet.channel, ts, bot.updates, PROGRESS_EVERY)
    try:
        reply = _run(bot, access, command, lambda r: live.show(compose.message(r)))
    except BaseException:  # a bug: the message must not say "running…" forever
        live.finish(compose.plain(f":x: `{name}` failed inside supbot; see supbot's log."))
        raise
    note = ""
    if isinstance(reply, CommandRunReply) and reply.too_long and not reply.running:
        note = _upload_output(bot, outlet.channel, ts, reply)
    live.finish(compose.message(reply, note=note))


def _run(
    bot: SlackBot,
    access: Access,
    command: Command,
    on_progress: Callable[[CommandRunReply], None] | None = None,
) -> CommandRunReply | MessageReply:
    """The final reply; a command that cannot start (missing program) is one sentence."""
    try:
        return run_allowed_command(
            bot.services.commands, access, command, on_progress, PROGRESS_EVERY
        )
    except errors.SupbotError as exc:
        return MessageReply(str(exc), error=True)


def _upload_output(bot: SlackBot, channel: str, ts: str, reply: CommandRunReply) -> str:
    lines = reply.output.count("\n") + 1
    # CommandService keeps the tail of the output: say so when it may have been cut.
    cut = lines >= TAIL_LINES or len(reply.output.encode()) >= TAIL_BYTES - 1024
    what = (
        f"The last {lines} lines of output are" if cut else f"The whole output ({lines} lines) is"
    )
    title = f"Output of {reply.command_text[4:][:200]} (exit code {reply.exit_code})"
    if upload(bot.client, channel, reply.output, reply.filename, title, thread_ts=ts):
        return f"{what} in the file in this message's thread."
    return "The output was too long for a message and could not be uploaded."
