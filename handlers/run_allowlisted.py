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
from bot.agent.liveness import NodeChoice
from bot.auth import Access
from bot.commands.render import CommandRunReply
from bot.commands.verbs import run_allowed_command
from bot.grammar import Command
from bot.replies import MessageReply
from bot.runs.execute import TAIL_BYTES, TAIL_LINES
from bot.scheduler.laravel_verbs import check_laravel_run, laravel_run
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
    except NodeChoice as exc:  # several nodes: a button each, and @all
        outlet.reply(MessageReply(str(exc), choices=exc.choices), command)
        return
    except errors.SupbotError as exc:
        outlet.reply(MessageReply(str(exc), error=True), command)
        return
    started = CommandRunReply.started(name, args, access.actor.mention)

    def run(on_progress: Progress) -> CommandRunReply:
        return run_allowed_command(commands, access, command, on_progress, PROGRESS_EVERY)

    _stream(bot, command, outlet, started, run)


def stream_laravel_run(bot: SlackBot, access: Access, command: Command, outlet: Outlet) -> None:
    """`schedule run @node` / `job run <laravel-task>`: streamed like `/sup run`."""
    services = bot.services
    try:
        check_laravel_run(services.laravel, services.jobs, access, command)
    except errors.SupbotError as exc:
        outlet.reply(MessageReply(str(exc), error=True), command)
        return
    started = CommandRunReply(
        command.args[1], (), actor_mention=access.actor.mention, shown_as=command.text
    )

    def run(on_progress: Progress) -> CommandRunReply:
        return laravel_run(
            services.laravel, services.jobs, access, command, on_progress, PROGRESS_EVERY
        )

    _stream(bot, command, outlet, started, run)


Progress = Callable[[CommandRunReply], None] | None


def _stream(
    bot: SlackBot,
    command: Command,
    outlet: Outlet,
    started: CommandRunReply,
    run: Callable[[Progress], CommandRunReply],
) -> None:
    ts = post(bot.client, outlet.channel, compose.message(started)) if outlet.channel else None
    if ts is None:
        outlet.reply(_run(run), command)
        return
    live = LiveMessage(bot.client, outlet.channel, ts, bot.updates, PROGRESS_EVERY)
    try:
        reply = _run(run, lambda r: live.show(compose.message(r)))
    except BaseException:  # a bug: the message must not say "running…" forever
        live.finish(compose.plain(f":x: `{started.name}` failed inside supbot; see supbot's log."))
        raise
    note = ""
    if isinstance(reply, CommandRunReply) and reply.too_long and not reply.running:
        note = _upload_output(bot, outlet.channel, ts, reply)
    live.finish(compose.message(reply, note=note))


def _run(
    run: Callable[[Progress], CommandRunReply], on_progress: Progress = None
) -> CommandRunReply | MessageReply:
    """The final reply; a refusal or a command that cannot start is one sentence."""
    try:
        return run(on_progress)
    except errors.SupbotError as exc:
        return MessageReply(str(exc), error=True)


def _upload_output(bot: SlackBot, channel: str, ts: str, reply: CommandRunReply) -> str:
    lines = reply.output.count("\n") + 1
    # CommandService keeps the tail of the output: say so when it may have been cut.
    cut = lines >= TAIL_LINES or len(reply.output.encode()) >= TAIL_BYTES - 1024
    what = (
        f"The last {lines} lines of output are" if cut else f"The whole output ({lines} lines) is"
    )
    title = f"Output of {reply.shown[:200]} (exit code {reply.exit_code})"
    if upload(bot.client, channel, reply.output, reply.filename, title, thread_ts=ts):
        return f"{what} in the file in this message's thread."
    return "The output was too long for a message and could not be uploaded."
