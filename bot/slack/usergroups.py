"""User-group membership for authorization, from `usergroups.users.list`, cached with a TTL.

The method is rate-limited (tier 2, ~20/min): one call per group per TTL at most. When Slack
cannot be asked, the last known membership is used, or nobody (deny by default).
"""

from __future__ import annotations

import logging
import threading
import time

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

log = logging.getLogger("supbot.slack")


class UserGroups:
    """Callable `group_id -> frozenset of user IDs`, as `Authorizer` expects."""

    def __init__(self, client: WebClient, ttl: float = 300.0) -> None:
        self.client, self.ttl = client, ttl
        self._cache: dict[str, tuple[float, frozenset[str]]] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, group: str) -> frozenset[str]:
        cached = self._cache.get(group)
        if cached and time.monotonic() - cached[0] < self.ttl:
            return cached[1]
        with self._guard:
            lock = self._locks.setdefault(group, threading.Lock())
        with lock:  # one request per group even when many users ask at once
            cached = self._cache.get(group)
            if cached and time.monotonic() - cached[0] < self.ttl:
                return cached[1]
            members = self._fetch(group, cached[1] if cached else frozenset())
            self._cache[group] = (time.monotonic(), members)
            return members

    def _fetch(self, group: str, fallback: frozenset[str]) -> frozenset[str]:
        try:
            response = self.client.usergroups_users_list(usergroup=group)
        except (SlackApiError, SlackClientError, OSError) as exc:
            log.warning(
                "usergroups.users.list %s failed (%s); using last known members", group, exc
            )
            return fallback
        return frozenset(str(u) for u in response.get("users") or ())
