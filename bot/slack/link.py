"""Is Slack reachable with our token? `auth.test` in the background, with backoff, for ever.

`serve` must start and keep serving while Slack is down (Bolt would call auth.test once at
construction and give up), so the check runs here: one log line when the link goes down or
its reason changes, one when it comes back; /readyz reports `slack` until it is confirmed.
Once confirmed it looks again every RECHECK seconds — and within SUSPECT_AFTER of any Web API
call of this process that Slack did not answer (bot/slack/api_errors.py), so /readyz says so
in seconds, not minutes.
"""

from __future__ import annotations

import logging
import threading
from urllib.error import URLError

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.slack import api_errors
from bot.slack.client import IdentifiedWebClient

log = logging.getLogger("supbot.slack")

FIRST_RETRY = 1.0
MAX_RETRY = 60.0
RECHECK = 120.0  # once confirmed, how often to look again
SUSPECT_AFTER = 1.0  # a call Slack did not answer: look again this soon (failures coalesce)


def describe(exc: Exception) -> str:
    """One sentence for a failed Web API call, naming what to fix when it is ours."""
    if isinstance(exc, SlackApiError):
        error = exc.response.get("error") if exc.response is not None else None
        status = exc.response.status_code if exc.response is not None else "?"
        if error in ("invalid_auth", "not_authed", "token_revoked", "account_inactive"):
            return f"Slack refused the bot token ({error}): check SLACK_BOT_TOKEN"
        return f"Slack answered HTTP {status} ({error or 'no error code'})"
    if isinstance(exc, URLError):
        return f"cannot reach Slack ({exc.reason})"
    return f"cannot reach Slack ({exc.__class__.__name__}: {exc})"


class SlackLink:
    def __init__(self, client: WebClient) -> None:
        self.client = client
        self._problem: str | None = "auth.test not yet confirmed"
        self._stop = threading.Event()
        self._suspect = threading.Event()
        self._thread = threading.Thread(target=self._run, name="slack-link", daemon=True)
        self._unwatch = api_errors.watch(self._failed)

    def start(self) -> SlackLink:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._unwatch()
        self._stop.set()
        self._suspect.set()

    def _failed(self, _method: str, error: str) -> None:
        if api_errors.unreachable(error):
            self._suspect.set()

    def down(self) -> dict[str, str]:
        """For /healthz: {"slack": why} until auth.test has succeeded, and while it fails."""
        problem = self._problem
        return {"slack": problem} if problem else {}

    def check(self) -> bool:
        """One auth.test; logs only when the state changes."""
        try:
            who = self.client.api_call("auth.test")  # Slack itself, never a remembered answer
        except (SlackClientError, OSError) as exc:  # URLError is an OSError
            problem = f"auth not yet confirmed: {describe(exc)}; retrying"
            if problem != self._problem:
                log.warning("Slack is not usable yet: %s", problem)
            self._problem = problem
            return False
        if isinstance(self.client, IdentifiedWebClient):  # for a process started later
            self.client.identity.remember(who)
        if self._problem is not None:
            log.info("Slack auth confirmed: bot @%s in %s", who.get("user"), who.get("team"))
        self._problem = None
        return True

    def _run(self) -> None:
        delay = FIRST_RETRY
        while not self._stop.is_set():
            if self.check():
                delay = FIRST_RETRY
                self._suspect.clear()
                if self._suspect.wait(RECHECK):  # a call Slack did not answer: look now
                    self._stop.wait(SUSPECT_AFTER)
            else:
                self._stop.wait(delay)
                delay = min(delay * 2, MAX_RETRY)
