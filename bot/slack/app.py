"""The Bolt app: one WebClient (SLACK_API_URL, retries), the error handler, and the one place
where the handlers (handlers/commands, actions, events, views) are registered on it."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, cast

from slack_bolt import App
from slack_bolt.authorization import AuthorizeResult
from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

import handlers.actions
import handlers.commands
import handlers.events
import handlers.views
from bot.config import Secrets
from bot.slack.client import IdentifiedWebClient, make_web_client
from bot.slack.follow import FollowManager
from handlers.context import ServicesSource, SlackBot

log = logging.getLogger("supbot.slack")


def build_bot(
    source: ServicesSource,
    secrets: Secrets,
    *,
    socket_mode: bool = False,
    follow_interval: float = 10.0,
    follow_duration: float = 300.0,
    workers: int = 32,
    client: IdentifiedWebClient | None = None,
    identity_dir: Path | None = None,
) -> SlackBot:
    """The Bolt app with every handler registered; `bot.app` is what the servers run.
    `identity_dir`: where this host keeps the bot's identity (bot/slack/identity.py)."""
    client = client or make_web_client(secrets, identity_dir=identity_dir)
    app = App(
        name="supbot",
        # Bolt builds each request's client from this one and takes the token from
        # `authorize`, which answers from the identity Slack gave last (bot/slack/identity.py):
        # no auth.test round trip per process, and commands still answered while the Web API
        # is down. Supbot's own calls use `client`.
        client=WebClient(
            base_url=client.base_url, timeout=client.timeout, retry_handlers=client.retry_handlers
        ),
        authorize=_authorize(client, secrets.bot_token),
        user_facing_authorize_error_message=(
            "supbot cannot reach Slack's Web API to confirm who it is; try again in a minute."
        ),
        signing_secret=secrets.signing_secret,
        # Socket Mode needs no signing secret: the WebSocket itself is authenticated. In HTTP
        # mode this is the second signature check (bot/slack/fastpath.py says why).
        request_verification_enabled=not socket_mode,
        # HTTP mode answers 200 before Bolt runs (bot/slack/fastpath.py, 1.), so the listener
        # runs in that dispatch thread, not handed to yet another one; Socket Mode acks through
        # Bolt, which must then not wait for the listener.
        process_before_response=not socket_mode,
        # Bolt's auth.test at construction would make a Slack outage fatal at start;
        # SlackLink confirms the token in the background and /healthz reports it.
        token_verification_enabled=False,
        listener_executor=ThreadPoolExecutor(max_workers=workers, thread_name_prefix="slack"),
        logger=logging.getLogger("supbot.bolt"),
    )
    bot = SlackBot(source, client, FollowManager(client, follow_interval, follow_duration))
    bot.app = app
    handlers.commands.register(app, bot)
    handlers.actions.register(app, bot)
    handlers.events.register(app, bot)
    handlers.views.register(app, bot)
    app.error(apologise)
    return bot


def _authorize(client: IdentifiedWebClient, token: str) -> Callable[..., AuthorizeResult]:
    """Bolt's `authorize`: the bot's identity as `client` remembers it (asked of Slack only
    until it is known); None while it cannot be known (Bolt says so to the user)."""

    def authorize() -> AuthorizeResult | None:
        try:
            who = client.auth_test()
        except (SlackClientError, OSError):  # Bolt logs it, SlackLink says why
            return None
        return AuthorizeResult.from_auth_test_response(bot_token=token, auth_test_response=who)

    return cast(Callable[..., AuthorizeResult], authorize)  # Bolt handles None: "not found"


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
