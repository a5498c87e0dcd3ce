"""Button clicks (block_actions): every `/sup` button and "Share in channel"."""

from __future__ import annotations

from typing import TYPE_CHECKING

from slack_bolt import App

if TYPE_CHECKING:
    from bot.slack.app import SlackBot


def register(app: App, bot: SlackBot) -> None:
    from handlers.actions import command_button, share

    command_button.register(app, bot)
    share.register(app, bot)
