"""`app_home_opened`: publish the Home tab for the user (explicit grants only)."""

from __future__ import annotations

from typing import Any

from slack_bolt import App

from bot.slack.event_dedup import first_delivery
from handlers.context import SlackBot
from handlers.views.home import home_view


def register(app: App, bot: SlackBot) -> None:
    @app.event("app_home_opened")
    def opened(event: dict[str, Any], body: dict[str, Any]) -> None:
        handle(bot, event, body)


def handle(bot: SlackBot, event: dict[str, Any], body: dict[str, Any]) -> None:
    if event.get("tab", "home") != "home":
        return
    services = bot.services
    if not first_delivery(services.store, str(body.get("event_id") or "")):
        return  # a retry of an event already handled
    user = str(event.get("user") or "")
    access = services.authorizer.explicit(user, "home")
    bot.client.views_publish(user_id=user, view=home_view(services, access, []))
