"""Slash commands: `/sup`."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(app: App, bot: SlackBot) -> None:
    from handlers.commands import sup

    sup.register(app, bot)
