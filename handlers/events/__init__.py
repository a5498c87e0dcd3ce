"""Events API: `app_home_opened`."""

from __future__ import annotations

from slack_bolt import App

from handlers.context import SlackBot
from handlers.events import app_home


def register(app: App, bot: SlackBot) -> None:
    app_home.register(app, bot)
