"""Slash commands: `/sup`."""

from __future__ import annotations

from slack_bolt import App

from handlers.commands import sup
from handlers.context import SlackBot


def register(app: App, bot: SlackBot) -> None:
    sup.register(app, bot)
