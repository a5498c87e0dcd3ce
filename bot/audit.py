"""The audit log: every mutating action and every refused attempt, in the shared state.

An action is recorded twice over one row: `begin()` writes the attempt (outcome `started`)
before anything is changed, and `finish()` completes that row with its outcome. When the
attempt cannot be written (disk full, database broken) `begin()` raises `AuditUnavailable`
and the caller must not act. A row left `started` is an action whose outcome was never
recorded (supbot died meanwhile). Refusals and other one-step records use `record()`.
Listeners see finished entries only (from `record()` and `finish()`), never attempts.
Every text field is stored through `visible()`: no control characters, bidi overrides or lone
surrogates reach the table, the CLI, the API or the audit channel.
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace

from bot import errors
from bot.state import Store
from bot.usertext import visible

log = logging.getLogger("supbot.audit")

STARTED = "started"  # the outcome of an attempt not finished (yet)

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at REAL NOT NULL,
    actor TEXT NOT NULL,
    surface TEXT NOT NULL,
    channel TEXT NOT NULL DEFAULT '',
    action TEXT NOT NULL,
    target TEXT NOT NULL DEFAULT '',
    outcome TEXT NOT NULL,
    duration REAL NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_at ON audit(at)
"""


@dataclass(frozen=True)
class AuditEntry:
    at: float
    actor: str
    surface: str
    channel: str
    action: str
    target: str
    outcome: str  # ok | failed | refused | started (attempt, outcome not recorded yet)
    duration: float = 0.0
    error: str = ""
    id: int = 0

    def to_json(self) -> dict[str, object]:
        return asdict(self)


class AuditUnavailable(errors.SupbotError):
    """The attempt could not be recorded, so it was not made."""


class AuditLog:
    def __init__(self, store: Store) -> None:
        self.store = store
        store.ensure(SCHEMA)
        self.listeners: list[Callable[[AuditEntry], None]] = []

    def record(
        self,
        actor: str,
        surface: str,
        action: str,
        target: str,
        outcome: str,
        channel: str = "",
        duration: float = 0.0,
        error: str = "",
    ) -> AuditEntry:
        """One finished entry (a refusal, a change that is its own record)."""
        fields = (actor, surface, channel, action, target, outcome, duration, error)
        entry = self._insert(AuditEntry(0.0, *fields))
        self._tell(entry)
        return entry

    def begin(
        self, actor: str, surface: str, action: str, targets: list[str], channel: str = ""
    ) -> list[AuditEntry]:
        """Record attempts on `targets` before acting; AuditUnavailable means: do not act."""
        # One transaction: all attempts are on record, or none is and nothing runs.
        try:
            with self.store.transaction():
                return [
                    self._insert(AuditEntry(0.0, actor, surface, channel, action, t, STARTED))
                    for t in targets
                ]
        except (sqlite3.Error, OSError, errors.StateUnavailable) as exc:  # BEGIN/COMMIT failed
            with self.store.connect() as db, contextlib.suppress(sqlite3.Error):
                if db.in_transaction:
                    db.execute("ROLLBACK")
            raise unavailable(exc) from None

    @contextlib.contextmanager
    def finishing(self, attempts: list[AuditEntry]) -> Iterator[None]:
        """Complete `attempts` with the outcome of the block: ok, or failed with its error."""
        try:
            yield
        except BaseException as exc:
            for attempt in attempts:
                self.finish(attempt, "failed", 0.0, f"not saved: {exc}")
            raise
        for attempt in attempts:
            self.finish(attempt, "ok")

    def finish(
        self, entry: AuditEntry, outcome: str, duration: float = 0.0, error: str = ""
    ) -> AuditEntry:
        """Complete an attempt with its outcome. The action already happened: a failure to
        write is logged, not raised, and listeners hear of the outcome all the same."""
        done = replace(entry, outcome=outcome, duration=duration, error=visible(error))
        try:
            with self.store.connect() as db:
                db.execute(
                    "UPDATE audit SET outcome=?, duration=?, error=? WHERE id=?",
                    (outcome, duration, done.error, entry.id),
                )
        except (sqlite3.Error, OSError, errors.StateUnavailable):
            log.exception(
                "audit row %d stays 'started': its outcome %s was not saved", entry.id, outcome
            )
        self._tell(done)
        return done

    def _insert(self, given: AuditEntry) -> AuditEntry:
        text = {k: visible(v) for k, v in asdict(given).items() if isinstance(v, str)}
        entry = AuditEntry(**{**asdict(given), **text, "at": time.time()})
        row = {k: v for k, v in asdict(entry).items() if k != "id"}
        try:
            with self.store.connect() as db:
                cur = db.execute(
                    f"INSERT INTO audit({', '.join(row)}) VALUES ({','.join('?' * len(row))})",
                    tuple(row.values()),
                )
        except (sqlite3.Error, OSError) as exc:
            raise unavailable(exc) from None
        return replace(entry, id=cur.lastrowid or 0)

    def _tell(self, entry: AuditEntry) -> None:
        for listener in self.listeners:
            listener(entry)

    def since(self, seconds: float | None = None, limit: int = 1000) -> list[AuditEntry]:
        cutoff = time.time() - seconds if seconds else 0.0
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT * FROM audit WHERE at >= ? ORDER BY id DESC LIMIT ?", (cutoff, limit)
            ).fetchall()
        return [AuditEntry(**dict(r)) for r in reversed(rows)]

    def prune(self, retention: float) -> int:
        with self.store.connect() as db:
            cur = db.execute("DELETE FROM audit WHERE at < ?", (time.time() - retention,))
        return cur.rowcount


def unavailable(exc: BaseException) -> AuditUnavailable:
    log.error("audit log write failed: %s", exc)
    return AuditUnavailable(
        f"Not done: the audit log could not record it ({exc}). Nothing was changed; "
        "free space on supbot's state volume or check its database, then try again."
    )


def dump(entries: list[AuditEntry]) -> str:
    return json.dumps([e.to_json() for e in entries], indent=2)
