"""Slack's request signature, checked on the raw bytes before anything parses them.

slack-sdk's SignatureVerifier decodes the body as UTF-8 and `int()`s the timestamp, so a
non-UTF-8 body or `X-Slack-Request-Timestamp: abc` raised instead of being refused.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from collections.abc import Mapping

MAX_AGE = 5 * 60  # Slack: refuse requests older than five minutes (replays)


def refusal(
    secret: str, body: bytes, headers: Mapping[str, str], now: float | None = None
) -> str | None:
    """Why this request is not signed by Slack, in a few words; None when it is."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    signature = headers.get("x-slack-signature", "")
    if not timestamp or not signature:
        return "no Slack signature headers"
    if not (timestamp.isascii() and timestamp.isdigit()):
        return "X-Slack-Request-Timestamp is not a number"
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE:
        return "X-Slack-Request-Timestamp is more than 5 minutes off"
    base = b"v0:" + timestamp.encode() + b":" + body
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), signature.encode("utf-8", "replace")):
        return "bad signature"
    return None
