"""The audit log: every mutating action and every refused attempt, in the shared state."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

from bot.state import Store

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
    outcome: str  # ok | failed | refused
    duration: float = 0.0
    error: str = ""
    id: int = 0

    def to_json(self) -> dict[str, object]:
        return asdict(self)


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
        entry = AuditEntry(
            time.time(), actor, surface, channel, action, target, outcome, duration, error
        )
        with self.store.connect() as db:
            cur = db.execute(
                "INSERT INTO audit(at, actor, surface, channel, action, target, outcome, "
                "duration, error) VALUES (?,?,?,?,?,?,?,?,?)",
                (entry.at, actor, surface, channel, action, target, outcome, duration, error),
            )
        entry = AuditEntry(**{**asdict(entry), "id": cur.lastrowid or 0})
        for listener in self.listeners:
            listener(entry)
        return entry

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


def dump(entries: list[AuditEntry]) -> str:
    return json.dumps([e.to_json() for e in entries], indent=2)
