"""User-group membership for authorization, from `usergroups.users.list`, cached with a TTL.

The method is rate-limited (tier 2, ~20/min): one call per group per TTL at most, and while it
fails, one retry per group per `RETRY_AFTER` (or TTL, if shorter). Membership older than the TTL
comes back with the error, so authorization can fail closed for actions (see bot/auth.py).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.auth import Membership

log = logging.getLogger("supbot.slack")

RETRY_AFTER = 30.0


@dataclass(frozen=True)
class _Entry:
    members: frozenset[str]
    confirmed_at: float | None  # monotonic time of the last successful read
    tried_at: float
    error: str = ""


class UserGroups:
    """Callable `group_id -> Membership`, as `Authorizer` expects."""

    def __init__(self, client: WebClient, ttl: float = 300.0) -> None:
        self.client, self.ttl = client, ttl
        self._cache: dict[str, _Entry] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def __call__(self, group: str) -> Membership:
        entry = self._cache.get(group)
        if entry and not self._due(entry):
            return self._membership(entry)
        with self._guard:
            lock = self._locks.setdefault(group, threading.Lock())
        with lock:  # one request per group even when many users ask at once
            entry = self._cache.get(group)
            if not entry or self._due(entry):
                entry = self._fetch(group, entry)
                self._cache[group] = entry
                if not entry.error:  # just read: confirmed, whatever the TTL
                    return Membership(entry.members)
            return self._membership(entry)

    def _due(self, entry: _Entry) -> bool:
        now = time.monotonic()
        if entry.error:
            return now - entry.tried_at >= min(self.ttl, RETRY_AFTER)
        return now - entry.tried_at >= self.ttl

    def _membership(self, entry: _Entry) -> Membership:
        confirmed = entry.confirmed_at
        if confirmed is not None and time.monotonic() - confirmed < self.ttl:
            return Membership(entry.members)
        return Membership(entry.members, entry.error or "not read yet", confirmed is not None)

    def _fetch(self, group: str, old: _Entry | None) -> _Entry:
        now = time.monotonic()
        try:
            response = self.client.usergroups_users_list(usergroup=group)
        except (SlackApiError, SlackClientError, OSError) as exc:
            error = _reason(exc)
            log.warning(
                "usergroups.users.list %s failed (%s); its members count for viewing only "
                "until Slack answers",
                group,
                error,
            )
            members = old.members if old else frozenset()
            return _Entry(members, old.confirmed_at if old else None, now, error)
        members = frozenset(str(u) for u in response.get("users") or ())
        return _Entry(members, now, now)


def _reason(exc: Exception) -> str:
    """Slack's error code (`ratelimited`, `internal_error`) or the transport error, short."""
    if isinstance(exc, SlackApiError):
        code = exc.response.get("error") if isinstance(exc.response.data, dict) else None
        return str(code or f"HTTP {exc.response.status_code}")
    return f"{type(exc).__name__}: {exc}"[:200]
