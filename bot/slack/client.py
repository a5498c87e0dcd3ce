"""The Web API client: SLACK_API_URL as base, retries on rate limits and dropped connections."""

from __future__ import annotations

from slack_sdk import WebClient
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
)

from bot.config import Secrets


def make_web_client(secrets: Secrets, timeout: int = 15) -> WebClient:
    """slack-sdk reads no env var for its base URL and retries only connection errors by default."""
    return WebClient(
        token=secrets.bot_token or None,
        base_url=secrets.api_url,
        timeout=timeout,
        retry_handlers=[
            RateLimitErrorRetryHandler(max_retry_count=3),
            ConnectionErrorRetryHandler(max_retry_count=2),
        ],
    )
