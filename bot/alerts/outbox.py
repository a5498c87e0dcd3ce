"""The outbox: every Slack message or edit the alerts want, in the shared state.

Any supbot process with a bot token may deliver, on any host. A row is claimed before it is
sent, so one process sends it (bot/storage/alerts: a write transaction on SQLite, row locks
skipping the heads other claimers hold on PostgreSQL); a claim whose process died is taken over.
Rows of one channel go out in order, one in flight (the head blocks the rest while Slack is
down), paced by a token bucket shared through the database, so every channel stays within
Slack's ~1 message/s. Claim times and the bucket use the database's clock: hosts' clocks differ.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from bot.alerts.records import OutboxRow
from bot.runs.alive import HOST, holder_id, process_alive
from bot.storage.alerts.store import AlertStore

if TYPE_CHECKING:
    from bot.storage.alerts.tx import AlertTx

RATE = 1.0  # messages per second per channel (Slack's chat.postMessage guidance)
BURST = 3.0  # short bursts Slack tolerates
LEASE = 120.0  # a claim older than this is taken over even if its owner looks alive


class Outbox:
    """Claims rows to send for one owner (this process)."""

    def __init__(self, alerts: AlertStore, owner: str | None = None) -> None:
        self.alerts = alerts
        self.owner = owner or holder_id()

    def claim(self) -> tuple[list[OutboxRow], float]:
        """Claim the head row of every channel that may send now. Returns the rows and how
        long until another channel could send (for the caller's sleep)."""
        claimed: list[OutboxRow] = []
        wait = 1.0
        with self.alerts.claiming() as tx:
            heads = tx.outbox_heads()
            now = tx.now()  # after the heads were read: a claim is never older than its head
            for head in heads:
                if head.status == "claimed" and not self._abandoned(head, now):
                    continue
                if head.not_before > now:
                    wait = min(wait, head.not_before - now)
                    continue
                ready_in = self._take_token(tx, head.channel, now)
                if ready_in > 0:
                    wait = min(wait, ready_in)
                    continue
                tx.claim(head.id, self.owner, now)
                claimed.append(head)
        return claimed, max(0.01, wait)

    def _abandoned(self, row: OutboxRow, now: float) -> bool:
        """The claimer died (same host, pid gone or reused) or its lease ran out (by the
        database's clock: a claimer on another host cannot be asked)."""
        if now - row.claimed_at > LEASE:
            return True
        host, _, rest = row.claimed_by.partition(":")
        pid, _, start = rest.partition(":")
        if host != HOST or not pid.isdigit() or int(pid) == os.getpid():
            return False
        try:
            started = float(start)
        except ValueError:
            started = 0.0  # a claim without a start time: the pid alone decides
        return not process_alive(int(pid), started)

    def _take_token(self, tx: AlertTx, channel: str, now: float) -> float:
        """0 when a token was taken; else seconds until one is available."""
        pace = tx.pace(channel)
        tokens, updated, not_before = (
            (BURST, now, 0.0) if pace is None else (pace.tokens, pace.updated, pace.not_before)
        )
        if not_before > now:
            return float(not_before - now)
        tokens = min(BURST, tokens + (now - updated) * RATE)
        if tokens < 1.0:
            return (1.0 - tokens) / RATE
        tx.spend_token(channel, tokens - 1.0, now)
        return 0.0
