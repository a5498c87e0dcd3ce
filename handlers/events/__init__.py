"""Events API: `app_home_opened`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(app: App, bot: SlackBot) -> None:
    from handlers.events import app_home

    app_home.register(app, bot)
