"""One `/sup` command from Slack, after the ack: parse, authorize, show progress, run, reply.

Where the answer goes depends on the surface, so each surface has an `Outlet`: a slash command
answers through its response_url (ephemeral) or the channel (actions), a click replaces the
message that held the button, App Home re-publishes the Home tab.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Protocol

from slack_bolt import Respond
from slack_sdk import WebClient

from bot import errors, grammar
from bot.auth import Access
from bot.dispatch import MUTATING
from bot.grammar import Command
from bot.replies import MessageReply, Reply, StatusReply, TailReply
from bot.services import Services
from bot.slack import compose
from bot.slack.compose import Payload
from bot.slack.runs import stream_run
from bot.slack.webapi import post, respond_shared, update, upload

if TYPE_CHECKING:
    from bot.slack.app import SlackBot

log = logging.getLogger("supbot.slack")

# A tail longer than this goes up as a file snippet; the message keeps the newest lines.
MAX_INLINE_LOG = 2800


class Outlet(Protocol):
    channel: str

    def progress(self, payload: Payload) -> None: ...

    def reply(self, reply: Reply, command: Command | None, note: str = "") -> None: ...


def run_command(bot: SlackBot, access: Access, text: str, outlet: Outlet) -> None:
    """Everything after the ack. Expected failures become one sentence; bugs reach @app.error."""
    services = bot.services
    try:
        command = grammar.parse(text)
    except errors.SupbotError as exc:
        outlet.reply(MessageReply(str(exc), error=True), None)
        return
    if command.verb == "cancel" and command.args[:1] == ("follow",):
        notice = bot.follow.stop(command.args[1] if len(command.args) > 1 else "", access)
        if notice:
            outlet.reply(MessageReply(notice), command)
        return
    if command.verb == "run":  # streamed: a channel message edited as the output comes
        stream_run(bot, access, command, outlet)
        return
    if command.verb == "tail" and command.flag("--follow"):
        try:
            bot.follow.start(services, access, command, outlet.channel)
        except errors.SupbotError as exc:
            outlet.reply(MessageReply(str(exc), error=True), command)
        return
    if _will_act(services, access, command):
        outlet.progress(compose.progress(command, access.actor.mention))
    try:
        reply = services.dispatcher.run(access, command)
    except errors.SupbotError as exc:
        reply = MessageReply(str(exc), error=True)
    note = ""
    if isinstance(reply, TailReply) and outlet.channel:
        note = upload_long_tail(bot.client, reply, outlet.channel, access)
    outlet.reply(reply, command, note)


def _will_act(services: Services, access: Access, command: Command) -> bool:
    """True when the command will really change something now (authorized, no confirm step):
    only then is a progress line worth showing, and a refused attempt stays private."""
    try:
        if command.verb in MUTATING:
            if not command.flag("--yes"):
                return services.dispatcher.needs_confirmation(access, command) is None
            patterns = command.args[:1] if command.verb == "signal" else command.args
            for pattern in patterns:
                services.processes.find(access, pattern, command.verb)
            return True
        if command.verb == "reload" and command.flag("--apply"):
            return bool(services.reload.nodes_for(access))
    except errors.SupbotError:
        return False
    return False


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


class SlashOutlet:
    """A slash command: private answers via response_url, actions posted in the channel."""

    def __init__(self, client: WebClient, respond: Respond, channel: str) -> None:
        self.client, self.respond, self.channel = client, respond, channel
        self.ts: str | None = None

    def progress(self, payload: Payload) -> None:
        self.ts = post(self.client, self.channel, payload)
        if self.ts is None:
            self.respond(response_type="in_channel", **payload)

    def reply(self, reply: Reply, command: Command | None, note: str = "") -> None:
        if reply.public or self.ts:
            payload = compose.message(reply, command, note=note)
            if self.ts and update(self.client, self.channel, self.ts, payload):
                return
            if self.ts is None and post(self.client, self.channel, payload):
                return
            # Not a member of the channel: response_url can still post there.
            self.respond(response_type="in_channel", **payload)
            return
        share = compose.shareable(reply, command)
        payload = compose.message(reply, command, share=share, note=note)
        if isinstance(reply, StatusReply):  # the same payload object for everyone asking
            respond_shared(self.respond, "ephemeral", payload)
            return
        self.respond(response_type="ephemeral", **payload)


class ClickOutlet:
    """A button in a message. In an ephemeral message (only the clicker sees it) the answer
    replaces it, and action outcomes are also posted in the channel. In a channel message,
    actions are reported in place; other answers go to the clicker alone."""

    def __init__(self, client: WebClient, respond: Respond, channel: str, ephemeral: bool) -> None:
        self.client, self.respond, self.channel = client, respond, channel
        self.ephemeral = ephemeral
        self.progressed = False

    def progress(self, payload: Payload) -> None:
        self.progressed = True
        self.respond(replace_original=True, **payload)

    def reply(self, reply: Reply, command: Command | None, note: str = "") -> None:
        share = compose.shareable(reply, command)
        if self.ephemeral:
            self.respond(replace_original=True, **compose.message(reply, command, share, note))
            if reply.public and self.channel:
                self._post_public(compose.message(reply, command))
            return
        if reply.public or self.progressed:  # an action: reported in place, for everyone
            self.respond(replace_original=True, **compose.message(reply, command, note=note))
            return
        # Anything else on a channel message goes to the clicker alone; others' copy stays.
        payload = compose.message(reply, command, share, note)
        self.respond(replace_original=False, response_type="ephemeral", **payload)

    def _post_public(self, payload: Payload) -> None:
        if post(self.client, self.channel, payload) is None:
            self.respond(response_type="in_channel", replace_original=False, **payload)


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
