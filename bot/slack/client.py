"""The Web API client: SLACK_API_URL as base, retries on rate limits and dropped connections,
and `auth.test` answered from what Slack said last (bot/slack/identity.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)
from slack_sdk.web import SlackResponse

from bot.config import Secrets
from bot.slack.identity import SlackIdentity


class IdentifiedWebClient(WebClient):
    """`auth_test()` — what Bolt asks before its first request — from the identity Slack gave
    last, when there is one; else asked, and remembered. Calls that must reach Slack (SlackLink)
    use `api_call("auth.test")`."""

    def __init__(self, identity: SlackIdentity, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.identity = identity

    def auth_test(self, **kwargs: Any) -> SlackResponse:
        known = None if kwargs else self.identity.recall(self)
        if known is not None:
            return known
        try:
            response = super().auth_test(**kwargs)
        except (SlackClientError, OSError):
            known = self.identity.recall(self)
            if known is None or kwargs:
                raise
            return known
        self.identity.remember(response)
        return response


def make_web_client(
    secrets: Secrets, timeout: int = 15, identity_dir: Path | None = None
) -> IdentifiedWebClient:
    """slack-sdk reads no env var for its base URL and retries only connection errors by default.
    `identity_dir`: where this host keeps the bot's identity (else in memory only)."""
    return IdentifiedWebClient(
        SlackIdentity(identity_dir, secrets.bot_token),
        token=secrets.bot_token or None,
        base_url=secrets.api_url,
        timeout=timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )
