"""The two Web API calls every answer uses, failing soft: a refused post is logged, not raised."""

from __future__ import annotations

import json
import logging
import urllib.request

from slack_bolt import Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.memo import Memo, Same
from bot.slack.compose import Payload

log = logging.getLogger("supbot.slack")

_encoded: Memo[bytes] = Memo(16)  # JSON of payloads many askers share (compose's status memo)


def post(client: WebClient, channel: str, payload: Payload) -> str | None:
    """chat.postMessage; the message ts, or None when Slack refused (e.g. bot not invited)."""
    try:
        response = client.chat_postMessage(channel=channel, **payload)
    except (SlackClientError, OSError) as exc:
        log.warning("chat.postMessage to %s failed: %s", channel, _why(exc))
        return None
    return str(response.get("ts") or "") or None


def update(client: WebClient, channel: str, ts: str, payload: Payload) -> bool:
    try:
        client.chat_update(channel=channel, ts=ts, **payload)
    except (SlackClientError, OSError) as exc:
        log.warning("chat.update in %s failed: %s", channel, _why(exc))
        return False
    return True


def _why(exc: Exception) -> str:
    """Slack's error code (not_in_channel, …) or the transport error; never a token."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error"))
    return type(exc).__name__


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
        log.warning("files_upload_v2 to %s failed: %s", channel, _why(exc))
        return False
    return True


def respond_shared(respond: Respond, response_type: str, payload: Payload) -> None:
    """`respond(response_type=…, **payload)` for a payload many askers share (a status in an
    incident): its JSON is encoded once and posted with plain urllib (which honours HTTPS_PROXY
    and NO_PROXY), skipping the SDK's per-call set-up — ~1 ms of CPU per asker, all queued
    behind one read."""
    if respond.proxy or respond.ssl or not respond.response_url or not payload:
        respond(response_type=response_type, **payload)
        return
    body = _encoded.get(Same(payload), lambda: json.dumps(payload).encode())
    data = b'{"response_type": ' + json.dumps(response_type).encode() + b", " + body[1:]
    headers = {"Content-Type": "application/json;charset=utf-8"}
    request = urllib.request.Request(respond.response_url, data, headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
    except OSError as exc:  # HTTPError, URLError, timeouts: as respond() would, log and go on
        log.warning("posting to response_url failed: %s", type(exc).__name__)
