""" "Share in channel" on a read-only answer: run it again for the clicker and post it in the
channel, naming who shared it (ephemeral messages are not in click payloads, so the button's
value carries the command text)."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, Respond

from bot import errors, grammar
from bot.render.blocks import strip_share
from bot.slack.webapi import Payload, post
from handlers import compose
from handlers.actions.command_button import click_channel
from handlers.context import SlackBot


def register(app: App, bot: SlackBot) -> None:
    @app.action(compose.SHARE_ACTION)
    def share(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        handle(bot, body, action, respond)


def _private(respond: Respond, text: str) -> None:
    respond(replace_original=False, response_type="ephemeral", **compose.plain(text))


def handle(bot: SlackBot, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    user = (body.get("user") or {}).get("id", "")
    channel = click_channel(body)
    value = str(action.get("value") or "")
    services = bot.services
    try:
        access = services.authorizer.for_channel(user, channel, "button")
        if value in ("", "share"):  # a button without command text: re-post what was shown
            payload = _shown_message(body, user)
        else:
            command = grammar.parse(value)
            if command.verb not in compose.READ_ONLY:
                raise errors.UsageError("Only read-only answers can be shared.")
            access.require_role("status")
            payload = compose.shared(services.dispatcher.run(access, command), command, user)
    except errors.SupbotError as exc:
        _private(respond, f":warning: {exc}")
        return
    if post(bot.client, channel, payload) is None:
        respond(response_type="in_channel", replace_original=False, **payload)
    respond(delete_original=True)


def _shown_message(body: dict[str, Any], user: str) -> Payload:
    message = body.get("message")
    if not message:
        raise errors.UsageError("This answer can no longer be shared; run the command again.")
    blocks = strip_share(message.get("blocks") or [])
    note = compose.plain(f"Shared by <@{user}>")["blocks"]
    return {"text": message.get("text") or "shared", "blocks": blocks[:49] + note}
