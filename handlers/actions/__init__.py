"""Button clicks (block_actions): every `/sup` button and "Share in channel"."""

from __future__ import annotations

from slack_bolt import App

from handlers.actions import command_button, share
from handlers.context import SlackBot


def register(app: App, bot: SlackBot) -> None:
    command_button.register(app, bot)
    share.register(app, bot)
