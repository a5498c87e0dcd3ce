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
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace

from bot import errors
from bot.state import Store
from bot.usertext import visible

log = logging.getLogger("supbot.audit")

STARTED = "started"  # the outcome of an attempt not finished (yet)


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
        # The state is opened at the first use, not here: a long-running process starts while
        # the database is down (its actions are refused until it answers, never run unaudited),
        # and commands that never record (status) never connect.
        self.store = store
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
        from sqlalchemy.exc import SQLAlchemyError

        # One transaction: all attempts are on record, or none is and nothing runs.
        try:
            with self.store.transaction():
                return [
                    self._insert(AuditEntry(0.0, actor, surface, channel, action, t, STARTED))
                    for t in targets
                ]
        except (SQLAlchemyError, OSError, errors.StateUnavailable) as exc:  # BEGIN/COMMIT
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
        from sqlalchemy.exc import SQLAlchemyError

        from bot.storage import audit

        done = replace(entry, outcome=outcome, duration=duration, error=visible(error))
        try:
            with self.store.connect() as db:
                audit.complete(db, entry.id, outcome, duration, done.error)
        except (SQLAlchemyError, OSError, errors.StateUnavailable):
            log.exception(
                "audit row %d stays 'started': its outcome %s was not saved", entry.id, outcome
            )
        self._tell(done)
        return done

    def _insert(self, given: AuditEntry) -> AuditEntry:
        from sqlalchemy.exc import SQLAlchemyError

        from bot.storage import audit

        text = {k: visible(v) for k, v in asdict(given).items() if isinstance(v, str)}
        entry = AuditEntry(**{**asdict(given), **text, "at": time.time()})
        try:
            with self.store.connect() as db:
                new_id = audit.add(db, entry)
        except (SQLAlchemyError, OSError) as exc:  # not a condition of the database (a trigger…)
            raise unavailable(exc) from None
        return replace(entry, id=new_id)

    def _tell(self, entry: AuditEntry) -> None:
        for listener in self.listeners:
            listener(entry)

    def since(self, seconds: float | None = None, limit: int = 1000) -> list[AuditEntry]:
        """The newest `limit` entries of the last `seconds` (all when None), oldest first."""
        from bot.storage import audit

        cutoff = time.time() - seconds if seconds else 0.0
        with self.store.connect() as db:
            return audit.since(db, cutoff, limit)

    def prune(self, retention: float) -> int:
        """Forget the entries older than `retention` seconds; how many."""
        from bot.storage import audit

        with self.store.connect() as db:
            return audit.prune(db, time.time() - retention)


def unavailable(exc: BaseException) -> AuditUnavailable:
    # The driver's own words (SQLAlchemy wraps them with the statement), first line only.
    reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    said = reason[0] if reason else type(exc).__name__
    log.error("audit log write failed: %s", said)
    return AuditUnavailable(
        f"Not done: the audit log could not record it ({said}). Nothing was changed; "
        "free space on supbot's state volume or check its database, then try again."
    )


def dump(entries: list[AuditEntry]) -> str:
    return json.dumps([e.to_json() for e in entries], indent=2)
