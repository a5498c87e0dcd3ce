"""Where an answer goes, per surface: a slash command answers through its response_url
(ephemeral) or the channel (actions); a click replaces the message that held the button.
The Home tab's outlet is in handlers/views/home.py."""

from __future__ import annotations

from slack_bolt import Respond
from slack_sdk import WebClient

from bot.grammar import Command
from bot.replies import Reply, StatusReply
from bot.slack.fastpath import respond_shared
from bot.slack.webapi import Payload, post, update
from handlers import compose


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
