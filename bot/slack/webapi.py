"""The Web API calls every answer uses (post, update, upload), failing soft: a refused call is
logged, not raised. Shared payloads are posted by bot/slack/fastpath.py."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackClientError

from bot.slack import api_errors

log = logging.getLogger("supbot.slack")

Payload = dict[str, Any]  # a message's `text` + `blocks` (or a view), as the Web API takes it


def post(client: WebClient, channel: str, payload: Payload) -> str | None:
    """chat.postMessage; the message ts, or None when Slack refused (e.g. bot not invited)."""
    try:
        response = client.chat_postMessage(channel=channel, **payload)
    except (SlackClientError, OSError) as exc:
        log.warning("chat.postMessage to %s failed: %s", channel, _failed("chat.postMessage", exc))
        return None
    return str(response.get("ts") or "") or None


def update(client: WebClient, channel: str, ts: str, payload: Payload) -> bool:
    try:
        client.chat_update(channel=channel, ts=ts, **payload)
    except (SlackClientError, OSError) as exc:
        log.warning("chat.update in %s failed: %s", channel, _failed("chat.update", exc))
        return False
    return True


def _failed(method: str, exc: Exception) -> str:
    """Counts the failure; Slack's error code (not_in_channel, …) or the transport error,
    never a token."""
    why = api_errors.error_of(exc)
    api_errors.count(method, why)
    return why


def upload(
    client: WebClient,
    channel: str,
    content: str,
    filename: str,
    title: str,
    comment: str = "",
    thread_ts: str | None = None,
) -> bool:
    """files_upload_v2 (scope files:write) of text too long for a message; False when refused."""
    try:
        client.files_upload_v2(
            channel=channel,
            content=content,
            filename=filename,
            title=title,
            initial_comment=comment or None,
            thread_ts=thread_ts,
        )
    except (SlackClientError, OSError) as exc:
        log.warning("files_upload_v2 to %s failed: %s", channel, _failed("files.upload_v2", exc))
        return False
    return True
