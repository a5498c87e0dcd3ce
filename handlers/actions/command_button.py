"""A `sup_cmd:*` button: its value is `/sup` text, run again for the clicking user — a button
shown to someone else (or before a role changed) grants nothing by itself."""

from __future__ import annotations

import re
from typing import Any

from slack_bolt import Ack, App, Respond

from bot import errors
from bot.render.blocks import BUTTON_ACTION_PREFIX
from handlers import compose
from handlers.context import Outlet, SlackBot
from handlers.flow import audit_refusal, run_sup
from handlers.outlets import ClickOutlet
from handlers.views.home import HomeOutlet


def register(app: App, bot: SlackBot) -> None:
    @app.action(re.compile(f"^{re.escape(BUTTON_ACTION_PREFIX)}:"))
    def click(ack: Ack, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
        ack()
        handle(bot, body, action, respond)


def click_channel(body: dict[str, Any]) -> str:
    container = body.get("container") or {}
    return str(container.get("channel_id") or (body.get("channel") or {}).get("id") or "")


def handle(bot: SlackBot, body: dict[str, Any], action: dict[str, Any], respond: Respond) -> None:
    user = (body.get("user") or {}).get("id", "")
    value = str(action.get("value") or "")
    container = body.get("container") or {}
    services = bot.services
    outlet: Outlet
    if container.get("type") == "view":  # App Home: explicit grants only
        access = services.authorizer.explicit(user, "home")
        outlet = HomeOutlet(bot.client, services, access)
    else:
        channel = click_channel(body)
        try:
            access = services.authorizer.for_channel(user, channel, "button")
        except errors.SupbotError as exc:
            audit_refusal(services, user, "button", channel, value, str(exc))
            respond(
                replace_original=False,
                response_type="ephemeral",
                **compose.plain(f":warning: {exc}"),
            )
            return
        outlet = ClickOutlet(bot.client, respond, channel, bool(container.get("is_ephemeral")))
    run_sup(bot, access, value, outlet)
