"""What every Slack handler shares: the bot (current services, Web API client, followed logs,
the chat.update budget) and the `Outlet` an answer goes out through.

Imports nothing from `handlers`, so every handler module can import it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from slack_bolt import App
from slack_sdk import WebClient

from bot.grammar import Command
from bot.replies import Reply
from bot.services import Services
from bot.slack.follow import FollowManager
from bot.slack.live import UpdateBudget
from bot.slack.webapi import Payload


class ServicesSource(Protocol):
    """Where the current Services live: `Runtime` (swapped on SIGHUP) or a fixed bundle."""

    @property
    def services(self) -> Services: ...


@dataclass
class StaticServices:
    services: Services


class SlackBot:
    """What every handler needs: the current services, the Web API client, the followers."""

    def __init__(self, source: ServicesSource, client: WebClient, follow: FollowManager) -> None:
        self.source, self.client, self.follow = source, client, follow
        self.updates = UpdateBudget()  # progress edits of every streamed message share it
        self.app: App

    @property
    def services(self) -> Services:
        return self.source.services

    def close(self) -> None:
        self.follow.close()


class Outlet(Protocol):
    """Where one surface's answer goes (handlers/outlets.py, the Home tab in handlers/views)."""

    channel: str

    def progress(self, payload: Payload) -> None: ...

    def reply(self, reply: Reply, command: Command | None, note: str = "") -> None: ...
