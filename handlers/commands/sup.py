"""`/sup <text>`: ack at once, then authorize in the channel and run on Bolt's thread pool."""

from __future__ import annotations

from typing import Any

from slack_bolt import Ack, App, BoltContext, Respond

from bot import errors
from bot.asked import asking
from bot.slack.fastpath import RECEIVED_AT
from handlers import compose
from handlers.context import SlackBot
from handlers.flow import audit_refusal, run_sup
from handlers.outlets import SlashOutlet


def register(app: App, bot: SlackBot) -> None:
    @app.command("/sup")
    def sup(ack: Ack, command: dict[str, Any], respond: Respond, context: BoltContext) -> None:
        ack()  # nothing to show yet: Slack needs the 200 within 3 s, the work comes after
        with asking(context.get(RECEIVED_AT)):  # when it arrived (bot/slack/fastpath.py, 7.)
            handle(bot, command, respond)


def handle(bot: SlackBot, command: dict[str, Any], respond: Respond) -> None:
    user, channel = command.get("user_id", ""), command.get("channel_id", "")
    text = command.get("text") or ""
    services = bot.services
    try:
        access = services.authorizer.for_channel(user, channel, "slash")
    except errors.SupbotError as exc:
        audit_refusal(services, user, "slash", channel, text, str(exc))
        respond(response_type="ephemeral", **compose.plain(f":warning: {exc}"))
        return
    run_sup(bot, access, text, SlashOutlet(bot.client, respond, channel))
