"""A channel message kept up to date with chat.update, paced for Slack's rate limits.

chat.update is a tier-3 method (~50 calls a minute per workspace), shared by every message
supbot edits. Progress edits are optional: one that finds no budget is skipped (the next one
carries newer output anyway). The final edit is never skipped. Edits are sent from a thread of
their own so a slow or rate-limited Slack never delays the work being reported.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from slack_sdk import WebClient

from bot.errors import StateUnavailable
from bot.slack.webapi import Payload, update


class UpdateBudget:
    """A token bucket for progress edits: `per_minute` on average, bursts of `burst`.

    Slack's limit is the workspace's, whoever calls: with `shares` (how many processes draw on
    it now: serve's workers × the live replicas), this process takes its share, asked again
    every SHARES_EVERY seconds (a replica that joins or dies changes it; when the state cannot
    say, the last answer stands)."""

    PER_MINUTE = 40.0  # of Slack's ~50 a minute, leaving room for final edits
    SHARES_EVERY = 10.0

    def __init__(
        self,
        per_minute: float = PER_MINUTE,
        burst: int = 5,
        shares: Callable[[], int] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.per_minute, self.full_burst = per_minute, float(burst)
        self.rate, self.burst = per_minute / 60.0, float(burst)
        self.shares, self.clock = shares, clock
        self._tokens, self._at = self.burst, clock()
        self._asked = -self.SHARES_EVERY
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            now = self.clock()
            if self.shares is not None and now - self._asked >= self.SHARES_EVERY:
                self._share(now)
            self._tokens = min(self.burst, self._tokens + (now - self._at) * self.rate)
            self._at = now
            if self._tokens < 1:
                return False
            self._tokens -= 1
            return True

    def _share(self, now: float) -> None:
        assert self.shares is not None
        self._asked = now
        try:
            shares = max(1, self.shares())
        except StateUnavailable:
            return
        self.rate = self.per_minute / 60.0 / shares
        self.burst = max(1.0, self.full_burst / shares)


class LiveMessage:
    """`show(payload)` as often as you like: Slack sees the newest one at most every `gap`
    seconds; `finish(payload)` waits for any edit in flight, then sends the last one."""

    def __init__(
        self, client: WebClient, channel: str, ts: str, budget: UpdateBudget, gap: float = 3.0
    ) -> None:
        self.client, self.channel, self.ts = client, channel, ts
        self.budget, self.gap = budget, gap
        self._pending: Payload | None = None
        self._closed = False
        self._last = time.monotonic()  # the post itself counts as the first edit
        self._cond = threading.Condition()
        self._thread = threading.Thread(target=self._send, name=f"live-{ts}", daemon=True)
        self._thread.start()

    def show(self, payload: Payload) -> None:
        with self._cond:
            self._pending = payload
            self._cond.notify()

    def finish(self, payload: Payload) -> bool:
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join()
        return update(self.client, self.channel, self.ts, payload)

    def _send(self) -> None:
        while True:
            with self._cond:
                while not self._closed and (
                    self._pending is None or time.monotonic() - self._last < self.gap
                ):
                    if self._pending is None:
                        self._cond.wait()
                    else:
                        self._cond.wait(max(0.0, self._last + self.gap - time.monotonic()))
                if self._closed:
                    return
                self._last = time.monotonic()
                if not self.budget.take():  # keep it: retried after another gap
                    continue
                payload, self._pending = self._pending, None
            if payload is not None:
                update(self.client, self.channel, self.ts, payload)
