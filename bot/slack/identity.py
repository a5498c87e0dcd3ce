"""Who the bot is in Slack — what `auth.test` answered — remembered, per token, on this host.

Bolt asks `auth.test` on each process's first request (its single-team authorization) and
drops the request when Slack does not answer: a worker or replica started while the Web API is
down would take no command, although the answers go to response_url, and every new worker paid
one more round trip on its first command. The answer holds no secret (team, bot user and bot
ids), so supbot keeps the last one in memory and in `<[storage] dir>/slack-identity-<hash of
the token>.json`, and Bolt's `auth.test` is answered from there (bot/slack/client.py). Whether
Slack answers now is SlackLink's business (bot/slack/link.py): it always asks Slack itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from pathlib import Path
from typing import Any

from slack_sdk.web import SlackResponse

log = logging.getLogger("supbot.slack")

KEPT_HEADERS = ("x-oauth-scopes",)  # what Bolt reads of the answer's headers


class SlackIdentity:
    def __init__(self, directory: Path | None, token: str) -> None:
        digest = hashlib.sha256(token.encode()).hexdigest()[:16]
        self.path = directory / f"slack-identity-{digest}.json" if directory and token else None
        self._known: tuple[dict[str, Any], dict[str, str]] | None = None

    def remember(self, response: SlackResponse) -> None:
        """Slack's answer to auth.test (only one that says ok)."""
        data = response.data if isinstance(response.data, dict) else {}
        if not data.get("ok"):
            return
        headers = {k: str(v) for k, v in response.headers.items() if k.lower() in KEPT_HEADERS}
        self._known = (dict(data), headers)
        if self.path is None:
            return
        temporary = self.path.with_name(f"{self.path.name}.{os.getpid()}")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps({"data": data, "headers": headers}))
            os.replace(temporary, self.path)
        except OSError as exc:  # a read-only or full disk: memory only
            log.debug("cannot keep Slack's identity in %s: %s", self.path, exc)

    def recall(self, client: Any) -> SlackResponse | None:
        """The last answer remembered (in this process, else on this host), as a response."""
        known = self._known or self._load()
        if known is None:
            return None
        data, headers = known
        return SlackResponse(
            client=client,
            http_verb="POST",
            api_url=f"{client.base_url}auth.test",
            req_args={},
            data=data,
            headers=headers,
            status_code=200,
        )

    def _load(self) -> tuple[dict[str, Any], dict[str, str]] | None:
        if self.path is None:
            return None
        try:
            found = json.loads(self.path.read_text())
            data, headers = dict(found["data"]), dict(found["headers"])
        except (OSError, ValueError, TypeError, KeyError):
            return None
        if not data.get("ok"):
            return None
        self._known = (data, headers)
        return self._known
