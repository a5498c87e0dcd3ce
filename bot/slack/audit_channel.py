"""`[audit] channel`: one line per audited action, posted from the shared audit table.

Reading the table (not only this process's AuditLog) means actions from the CLI, the API and
the scheduler are posted too. Lines go through the alerts outbox (bot/alerts/outbox.py): a line
is queued in the same transaction that moves this channel's cursor, so it is queued exactly
once, and the outbox sends it in order, retrying while Slack is down, across restarts.
"""

from __future__ import annotations

import logging
import re
import time

from bot.audit import STARTED, AuditEntry, AuditLog
from bot.render.blocks import code
from bot.state import Store
from bot.storage.alerts.store import AlertStore

log = logging.getLogger("supbot.slack")

SLACK_ID = re.compile(r"[A-Z0-9]{2,30}")
OUTCOMES = {
    "ok": "ok",
    "failed": "FAILED",
    "refused": "refused",
    STARTED: "started, no outcome recorded (yet)",
}

# An entry is posted once its outcome is known. An attempt whose outcome never came (the
# process died mid-action) is posted as it stands after ATTEMPT_STALE.
ATTEMPT_STALE = 3600.0
# Entries are read by time (AuditLog.since); `at` is taken just before the insert, so entries
# of several processes can be out of order by the time one waited for the write lock.
CLOCK_MARGIN = 120.0
READ_LIMIT = 20000


def audit_line(e: AuditEntry) -> str:
    """One line; every field anyone could have typed goes through `code()` (nothing in it can
    format, mention or start a new line)."""
    who = f"<@{e.actor}>" if SLACK_ID.fullmatch(e.actor) and e.actor[:1] in "UW" else code(e.actor)
    where = f" in <#{e.channel}>" if SLACK_ID.fullmatch(e.channel) and e.channel[:1] in "CG" else ""
    outcome = OUTCOMES.get(e.outcome, e.outcome)
    line = f"{code(e.action)} {code(e.target, 300)} by {who}{where} via {e.surface} — {outcome}"
    if e.duration >= 0.05:
        line += f" ({e.duration:.1f} s)"
    if e.error:
        line += f": {code(e.error, 300)}"
    return line


def settled(entry: AuditEntry, now: float) -> bool:
    """Ready to post: its outcome is recorded, or it will never be."""
    return entry.outcome != STARTED or now - entry.at > ATTEMPT_STALE


class AuditFeed:
    """Queues audit lines for `channel` in the outbox; `feed()` is called by the alerts
    worker's delivery loop (serve, `alerts deliver`, a sending listener)."""

    def __init__(self, store: Store, audit: AuditLog, channel: str) -> None:
        self.store, self.audit, self.channel = store, audit, channel
        self.alerts = AlertStore(store)

    def feed(self) -> int:
        """Queue every settled entry after the cursor; returns how many were queued."""
        cursor = self._cursor()
        if cursor is None:
            return 0
        last_id, last_at = cursor
        window = time.time() - last_at + CLOCK_MARGIN
        read = self.audit.since(window, READ_LIMIT)
        if len(read) == READ_LIMIT:
            log.warning(
                "over %d audit entries wait for %s; the oldest are skipped",
                READ_LIMIT,
                self.channel,
            )
        entries = [e for e in read if e.id > last_id]
        if not entries:
            return 0
        return self._queue(entries)

    def _cursor(self) -> tuple[int, float] | None:
        """This channel's cursor; placed at the newest entry the first time (history from
        before the channel was configured is not posted)."""
        from bot.storage import audit

        with self.store.connect() as db:
            found = audit.cursor(db, self.channel)
        if found is not None:
            return found
        newest = self.audit.since(None, 1)
        top, at = (newest[0].id, newest[0].at) if newest else (0, time.time())
        with self.store.connect() as db:
            audit.place_cursor(db, self.channel, top, at)
        return None

    def _queue(self, entries: list[AuditEntry]) -> int:
        from bot.storage import audit

        now, queued = time.time(), 0
        with self.store.transaction() as db:
            # Re-read under the write lock: another process may have queued some meanwhile.
            found = audit.cursor(db, self.channel)
            assert found is not None, "placed by _cursor() before anything is queued"
            last_id, last_at = found
            queue = self.alerts.within(db)
            behind = False  # an unsettled entry holds the cursor (not the entries after it)
            for entry in entries:
                if entry.id <= last_id:
                    continue
                if not settled(entry, now):
                    behind = True
                    continue
                if not queue.queued("audit", entry.id, self.channel):
                    line = audit_line(entry)
                    queue.enqueue(self.channel, "audit", entry.id, {"text": line})
                    queued += 1
                if not behind:
                    last_id, last_at = entry.id, entry.at
            audit.move_cursor(db, self.channel, last_id, last_at)
        return queued
