"""`[audit] channel`: one line per audited action, posted from the shared audit table.

Reading the table (not only this process's AuditLog) means actions from the CLI, the API and
the scheduler are posted too. A cursor row in the shared DB is advanced *before* each post, in
a BEGIN IMMEDIATE transaction, so two `serve` processes never post the same line twice.
"""

from __future__ import annotations

import logging
import re
import sqlite3
import threading
import time
from typing import TYPE_CHECKING

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError

from bot.audit import STARTED, AuditEntry
from bot.render.blocks import code

if TYPE_CHECKING:
    from bot.slack.app import ServicesSource

log = logging.getLogger("supbot.slack")

HOLD_STARTED = 300.0  # seconds an attempt may wait for its outcome before it is posted as is
SLACK_ID = re.compile(r"[A-Z0-9]{2,30}")
OUTCOMES = {
    "ok": "ok",
    "failed": "FAILED",
    "refused": "refused",
    STARTED: "started, no outcome recorded (yet)",
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS slack_audit_cursor (
    channel TEXT PRIMARY KEY,
    last_id INTEGER NOT NULL
)
"""


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


def held_back(entry: sqlite3.Row) -> bool:
    """An attempt still waiting for its outcome: post it once it has one (one line per
    action), or after HOLD_STARTED as 'started' when it never gets one (supbot died)."""
    return bool(entry["outcome"] == STARTED and time.time() - entry["at"] < HOLD_STARTED)


class AuditPoster:
    def __init__(self, source: ServicesSource, client: WebClient, poll: float = 2.0) -> None:
        self.source, self.client, self.poll = source, client, poll
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if not self.source.services.settings.audit_channel:
            return
        self.drain()  # places the cursor: history from before start-up is not posted
        self._thread = threading.Thread(target=self._loop, name="audit-channel", daemon=True)
        self._thread.start()

    def wake(self, _entry: object = None) -> None:
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll)
            self._wake.clear()
            try:
                self.drain()
            except Exception:  # keep posting later; the traceback goes to the log
                log.exception("posting the audit log failed")

    def drain(self) -> int:
        """Post every entry after the cursor; returns how many were posted."""
        services = self.source.services
        channel = services.settings.audit_channel
        if not channel:
            return 0
        store = services.store
        store.ensure(SCHEMA)
        posted = 0
        while True:
            with store.transaction() as db:
                row = db.execute(
                    "SELECT last_id FROM slack_audit_cursor WHERE channel=?", (channel,)
                ).fetchone()
                if row is None:
                    top = db.execute("SELECT COALESCE(MAX(id), 0) FROM audit").fetchone()[0]
                    db.execute("INSERT INTO slack_audit_cursor VALUES (?, ?)", (channel, top))
                    return posted
                entry = db.execute(
                    "SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT 1", (row[0],)
                ).fetchone()
                if entry is None or held_back(entry):
                    return posted  # in order: later lines wait for this one's outcome
                db.execute(
                    "UPDATE slack_audit_cursor SET last_id=? WHERE channel=?",
                    (entry["id"], channel),
                )
            text = audit_line(AuditEntry(**dict(entry)))
            try:
                self.client.chat_postMessage(channel=channel, text=text, mrkdwn=True)
                posted += 1
            except (SlackApiError, SlackClientError, OSError) as exc:
                log.warning("audit line not posted to %s: %s", channel, exc)
