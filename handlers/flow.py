"""One `/sup` command from Slack, after the ack: parse, authorize, show progress, run, reply.

Where the answer goes depends on the surface, so each surface has an `Outlet`
(handlers/outlets.py; the Home tab's in handlers/views/home.py). `/sup run` and `tail --follow`
are streamed (handlers/run_allowlisted.py, bot/slack/follow.py).
"""

from __future__ import annotations

import logging

from slack_sdk import WebClient

from bot import errors, grammar
from bot.auth import Access
from bot.dispatch import MUTATING
from bot.grammar import Command
from bot.replies import MessageReply, TailReply
from bot.scheduler.laravel_verbs import is_laravel_run
from bot.services import Services
from bot.slack.webapi import upload
from handlers import compose
from handlers.context import Outlet, SlackBot
from handlers.run_allowlisted import stream_allowlisted_run, stream_laravel_run

log = logging.getLogger("supbot.slack")

# A tail longer than this goes up as a file snippet; the message keeps the newest lines.
MAX_INLINE_LOG = 2800


def run_sup(bot: SlackBot, access: Access, text: str, outlet: Outlet) -> None:
    """Everything after the ack. Expected failures become one sentence; bugs reach @app.error."""
    services = bot.services
    try:
        command = grammar.parse(text)
    except errors.SupbotError as exc:
        outlet.reply(MessageReply(str(exc), error=True), None)
        return
    if command.verb == "cancel" and command.args[:1] == ("follow",):
        try:
            notice = bot.follow.stop(services, command.args[1] if command.args[1:] else "", access)
        except errors.SupbotError as exc:
            outlet.reply(MessageReply(str(exc), error=True), command)
            return
        if notice:
            outlet.reply(MessageReply(notice), command)
        return
    if command.verb == "run":  # streamed: a channel message edited as the output comes
        stream_allowlisted_run(bot, access, command, outlet)
        return
    if is_laravel_run(services.laravel, services.jobs, command):  # streamed the same way
        stream_laravel_run(bot, access, command, outlet)
        return
    if command.verb == "tail" and command.flag("--follow"):
        try:
            bot.follow.start(services, access, command, outlet.channel)
        except errors.SupbotError as exc:
            outlet.reply(MessageReply(str(exc), error=True), command)
        return

    def acting() -> None:  # authorized and confirmed: worth a progress line in the channel
        outlet.progress(compose.progress(command, access.actor.mention))

    if _reload_will_apply(services, access, command):
        acting()
    try:
        reply = services.dispatcher.run(access, command, acting)
    except errors.SupbotError as exc:
        reply = MessageReply(str(exc), error=True)
    note = ""
    if isinstance(reply, TailReply) and outlet.channel:
        note = upload_long_tail(bot.client, reply, outlet.channel, access)
    outlet.reply(reply, command, note)


def _reload_will_apply(services: Services, access: Access, command: Command) -> bool:
    """`reload --apply` by someone whose admin grants reach a node: worth a progress line (a
    refused attempt stays private). Process actions say so themselves (`acting`)."""
    return (
        command.verb == "reload"
        and command.flag("--apply")
        and bool(services.reload.nodes_for(access))
    )


def upload_long_tail(client: WebClient, reply: TailReply, channel: str, access: Access) -> str:
    """A log longer than a message goes up as a file snippet; returns a note for the message."""
    tail = reply.tail
    content = "\n".join(tail.lines)
    if len(content) <= MAX_INLINE_LOG:
        return ""
    name = f"{tail.process}@{tail.node}"
    if not upload(
        client,
        channel,
        content,
        f"{name.replace(':', '_')}-{tail.stream}.log",
        f"{name} {tail.stream}, last {len(tail.lines)} lines",
        f"Log of `{name}` ({tail.stream}) requested by {access.actor.mention}",
    ):
        return "The full log was too long for a message and could not be uploaded."
    return f"The full {len(tail.lines)} lines are in the file just uploaded to this channel."


def audit_refusal(
    services: Services, user: str, surface: str, channel: str, text: str, why: str
) -> None:
    """A mutating attempt refused before it reached a service (e.g. an unbound channel)."""
    try:
        command = grammar.parse(text)
    except errors.SupbotError:
        return
    if command.verb in MUTATING or command.verb in ("reload", "run"):
        target = " ".join(command.args)[:200] or "*"
        services.audit.record(user, surface, command.verb, target, "refused", channel, 0.0, why)
