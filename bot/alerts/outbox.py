"""The outbox: every Slack message or edit the alerts want, in the shared state.

Any supbot process with a bot token may deliver. A row is claimed in a write transaction before
it is sent, so one process sends it; a claim whose process died is taken over. Rows of one
channel go out in order (the head blocks the rest while Slack is down), paced by a token bucket
shared through the database, so every channel stays within Slack's ~1 message/s.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import time
import uuid
from dataclasses import dataclass
from typing import Any

from bot.state import Store

SCHEMA = """
CREATE TABLE IF NOT EXISTS alert_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    ref INTEGER NOT NULL DEFAULT 0,
    payload TEXT NOT NULL DEFAULT '{}',
    status TEXT NOT NULL DEFAULT 'pending',
    claimed_by TEXT,
    claimed_at REAL,
    attempts INTEGER NOT NULL DEFAULT 0,
    not_before REAL NOT NULL DEFAULT 0,
    created REAL NOT NULL,
    sent REAL,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alert_outbox_open ON alert_outbox(status, channel, id);
CREATE INDEX IF NOT EXISTS alert_outbox_ref ON alert_outbox(kind, ref, status);
CREATE TABLE IF NOT EXISTS alert_pace (
    channel TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    updated REAL NOT NULL,
    not_before REAL NOT NULL DEFAULT 0
)
"""

RATE = 1.0  # messages per second per channel (Slack's chat.postMessage guidance)
BURST = 3.0  # short bursts Slack tolerates
LEASE = 120.0  # a claim older than this is taken over even if its owner looks alive
OPEN = ("pending", "claimed")


@dataclass(frozen=True)
class OutboxRow:
    id: int
    channel: str
    kind: str  # incident | thread | rollup | digest | audit
    ref: int
    payload: dict[str, Any]
    attempts: int

    @classmethod
    def of(cls, row: sqlite3.Row) -> OutboxRow:
        return cls(
            row["id"],
            row["channel"],
            row["kind"],
            row["ref"],
            json.loads(row["payload"]),
            row["attempts"],
        )


def owner_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


def enqueue(
    db: sqlite3.Connection,
    channel: str,
    kind: str,
    ref: int = 0,
    payload: dict[str, Any] | None = None,
) -> int:
    """Add a row (inside the caller's transaction). A pending `incident`/`rollup` sync for the
    same ref already covers the change: the message is rendered from the latest state."""
    if kind in ("incident", "rollup"):
        row = db.execute(
            "SELECT id FROM alert_outbox WHERE kind=? AND ref=? AND status='pending'", (kind, ref)
        ).fetchone()
        if row:
            return int(row["id"])
    cur = db.execute(
        "INSERT INTO alert_outbox(channel, kind, ref, payload, created) VALUES (?,?,?,?,?)",
        (channel, kind, ref, json.dumps(payload or {}), time.time()),
    )
    return int(cur.lastrowid or 0)


def pending_thread(db: sqlite3.Connection, ref: int) -> sqlite3.Row | None:
    row: sqlite3.Row | None = db.execute(
        "SELECT * FROM alert_outbox WHERE kind='thread' AND ref=? AND status='pending'", (ref,)
    ).fetchone()
    return row


def update_payload(db: sqlite3.Connection, row_id: int, payload: dict[str, Any]) -> None:
    db.execute("UPDATE alert_outbox SET payload=? WHERE id=?", (json.dumps(payload), row_id))


class Outbox:
    def __init__(self, store: Store, owner: str | None = None) -> None:
        self.store = store
        self.owner = owner or owner_id()
        store.ensure(SCHEMA)

    def claim(self, now: float | None = None) -> tuple[list[OutboxRow], float]:
        """Claim the head row of every channel that may send now. Returns the rows and how
        long until another channel could send (for the caller's sleep)."""
        now = now or time.time()
        claimed: list[OutboxRow] = []
        wait = 1.0
        with self.store.transaction() as db:
            heads = db.execute(
                "SELECT o.* FROM alert_outbox o JOIN (SELECT channel, MIN(id) AS id FROM "
                "alert_outbox WHERE status IN ('pending','claimed') GROUP BY channel) h "
                "ON o.id = h.id"
            ).fetchall()
            for head in heads:
                if head["status"] == "claimed" and not self._abandoned(head, now):
                    continue
                if head["not_before"] > now:
                    wait = min(wait, head["not_before"] - now)
                    continue
                ready_in = self._take_token(db, head["channel"], now)
                if ready_in > 0:
                    wait = min(wait, ready_in)
                    continue
                db.execute(
                    "UPDATE alert_outbox SET status='claimed', claimed_by=?, claimed_at=? WHERE id=?",
                    (self.owner, now, head["id"]),
                )
                claimed.append(OutboxRow.of(head))
        return claimed, max(0.01, wait)

    def _abandoned(self, row: sqlite3.Row, now: float) -> bool:
        """The claimer died (same host, pid gone) or its lease ran out."""
        if now - (row["claimed_at"] or 0) > LEASE:
            return True
        host, _, rest = (row["claimed_by"] or "").partition(":")
        pid = rest.partition(":")[0]
        if host == socket.gethostname() and pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
            except ProcessLookupError:
                return True
            except PermissionError:
                return False
        return False

    def _take_token(self, db: sqlite3.Connection, channel: str, now: float) -> float:
        """0 when a token was taken; else seconds until one is available."""
        row = db.execute("SELECT * FROM alert_pace WHERE channel=?", (channel,)).fetchone()
        tokens, updated, not_before = (BURST, now, 0.0) if row is None else tuple(row)[1:]
        if not_before > now:
            return float(not_before - now)
        tokens = min(BURST, tokens + (now - updated) * RATE)
        if tokens < 1.0:
            return (1.0 - tokens) / RATE
        db.execute(
            "INSERT INTO alert_pace(channel, tokens, updated, not_before) VALUES (?,?,?,0) "
            "ON CONFLICT(channel) DO UPDATE SET tokens=excluded.tokens, updated=excluded.updated",
            (channel, tokens - 1.0, now),
        )
        return 0.0

    def done(self, row: OutboxRow, db: sqlite3.Connection | None = None) -> None:
        sql = "UPDATE alert_outbox SET status='sent', sent=?, error='' WHERE id=?"
        if db is not None:
            db.execute(sql, (time.time(), row.id))
            return
        with self.store.connect() as conn:
            conn.execute(sql, (time.time(), row.id))

    def retry(self, row: OutboxRow, delay: float, error: str, count: bool = True) -> None:
        """Back to pending, not before `delay` seconds; the channel waits behind it."""
        with self.store.connect() as db:
            db.execute(
                "UPDATE alert_outbox SET status='pending', claimed_by=NULL, claimed_at=NULL, "
                "not_before=?, attempts=attempts+?, error=? WHERE id=?",
                (time.time() + delay, 1 if count else 0, error[:500], row.id),
            )

    def rate_limited(self, channel: str, retry_after: float) -> None:
        """Slack said 429: nothing more to this channel before Retry-After."""
        now = time.time()
        with self.store.connect() as db:
            db.execute(
                "INSERT INTO alert_pace(channel, tokens, updated, not_before) VALUES (?,0,?,?) "
                "ON CONFLICT(channel) DO UPDATE SET tokens=0, updated=excluded.updated, "
                "not_before=excluded.not_before",
                (channel, now, now + retry_after),
            )

    def fail(self, row: OutboxRow, error: str) -> None:
        """Given up (Slack refused the message itself): kept with its error, shown in logs."""
        with self.store.connect() as db:
            db.execute(
                "UPDATE alert_outbox SET status='failed', error=? WHERE id=?", (error[:500], row.id)
            )

    def release_held(self) -> None:
        """Rows held for a refusal (bad token, wrong channel) may go now: a restart or a
        reload may have fixed the cause."""
        with self.store.connect() as db:
            db.execute(
                "UPDATE alert_outbox SET not_before=0 WHERE status='pending' AND error LIKE 'held:%'"
            )

    def backlog(self, held: bool = True) -> int:
        """Rows waiting to be sent; `held=False` leaves out the channels whose head is held
        for a refusal (nothing of theirs can go until it is fixed)."""
        sql = "SELECT COUNT(*) FROM alert_outbox WHERE status IN ('pending','claimed')"
        if not held:
            sql += (
                " AND channel NOT IN (SELECT channel FROM alert_outbox WHERE status='pending' "
                "AND error LIKE 'held:%')"
            )
        with self.store.connect() as db:
            row = db.execute(sql).fetchone()
        return int(row[0])
