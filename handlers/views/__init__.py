"""Views: the App Home tab (handlers/views/home.py). supbot opens no modals, so there is no
`view_submission` listener yet; one would be registered here."""

from __future__ import annotations

from slack_bolt import App

from handlers.context import SlackBot


def register(app: App, bot: SlackBot) -> None:
    """Nothing to register: the Home tab is published by handlers/events/app_home.py."""
