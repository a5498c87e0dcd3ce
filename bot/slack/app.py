"""The Bolt app: one WebClient (SLACK_API_URL, retries), the handlers, the error handler."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Protocol

from slack_bolt import App
from slack_sdk import WebClient

from bot.config import Secrets
from bot.services import Services
from bot.slack.client import make_web_client
from bot.slack.follow import FollowManager
from bot.slack.live import UpdateBudget

log = logging.getLogger("supbot.slack")


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


def build_bot(
    source: ServicesSource,
    secrets: Secrets,
    *,
    socket_mode: bool = False,
    follow_interval: float = 10.0,
    follow_duration: float = 300.0,
    workers: int = 32,
    client: WebClient | None = None,
) -> SlackBot:
    """The Bolt app with every handler registered; `bot.app` is what the servers run."""
    from handlers import actions, commands, events

    client = client or make_web_client(secrets)
    app = App(
        name="supbot",
        client=client,
        signing_secret=secrets.signing_secret,
        # Socket Mode needs no signing secret: the WebSocket itself is authenticated.
        request_verification_enabled=not socket_mode,
        # Bolt's auth.test at construction would make a Slack outage fatal at start;
        # SlackLink confirms the token in the background and /healthz reports it.
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack"),
        logger=logging.getLogger("supbot.bolt"),
    )
    bot = SlackBot(source, client, FollowManager(client, follow_interval, follow_duration))
    bot.app = app
    commands.register(app, bot)
    actions.register(app, bot)
    events.register(app, bot)
    app.error(apologise)
    return bot


def apologise(
    error: Exception, body: dict[str, Any], respond: Callable[..., Any] | None = None
) -> None:
    """A bug: the traceback goes to the log under an error id, the user gets one line."""
    error_id = uuid.uuid4().hex[:8]
    log.error("error %s while handling a Slack request", error_id, exc_info=error)
    if respond is None or not body.get("response_url"):
        return
    try:
        respond(
            text=f"Sorry, something went wrong (error `{error_id}`); the details are in "
            "supbot's log.",
            response_type="ephemeral",
            replace_original=False,
        )
    except Exception:  # the apology is best effort; the log has the cause
        log.exception("could not send the apology for error %s", error_id)
