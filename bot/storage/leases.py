"""Leases: one holder at a time of a named role (a singleton loop) across every host.

A lease names its holder (host:pid:start) and an expiry in database time. The holder renews it
well before it expires; anyone may take an expired lease, and a holder on this host whose
process is gone is replaced at once (checked by pid, as locks are). Taking and renewing happen
in a write block, which both engines serialize, so two processes never both hold a lease.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from sqlalchemy import Connection, delete, insert, select, update

from bot.runs.alive import HOST, holder_id, process_alive
from bot.state import Store, from_row
from bot.storage.tables import leases


@dataclass(frozen=True)
class Lease:
    name: str
    holder: str
    host: str
    pid: int
    acquired: float
    until: float

    def gone_here(self) -> bool:
        """Held by a process of this host that is no longer running."""
        if self.host != HOST:
            return False
        started = float(self.holder.rsplit(":", 1)[-1] or 0)
        return not process_alive(self.pid, started)


def read(db: Connection, name: str) -> Lease | None:
    row = db.execute(select(leases).where(leases.c.name == name)).mappings().first()
    return None if row is None else from_row(Lease, row)


def take(db: Connection, name: str, ttl: float, now: float) -> bool:
    """Hold (or go on holding) `name` until now + ttl; False when another live holder has it.
    Call inside `store.transaction()`."""
    current = read(db, name)
    fields = {"holder": holder_id(), "host": HOST, "pid": os.getpid(), "until": now + ttl}
    if current is None:
        db.execute(insert(leases).values(name=name, acquired=now, **fields))
        return True
    if current.holder == holder_id():
        db.execute(update(leases).where(leases.c.name == name).values(until=now + ttl))
        return True
    if current.until > now and not current.gone_here():
        return False
    db.execute(update(leases).where(leases.c.name == name).values(acquired=now, **fields))
    return True


def release(db: Connection, name: str) -> None:
    db.execute(delete(leases).where(leases.c.name == name, leases.c.holder == holder_id()))


def every(db: Connection) -> list[Lease]:
    found = db.execute(select(leases).order_by(leases.c.name)).mappings().all()
    return [from_row(Lease, row) for row in found]


class Leader:
    """This process's claim on one role: `holding()` renews when due and says whether we
    hold it now. A holder that cannot renew (database down) stops holding at its expiry by its
    own clock, so it never acts after another may have taken over."""

    def __init__(self, store: Store, name: str, ttl: float = 10.0) -> None:
        self.store = store
        self.name = name
        self.ttl = ttl
        self._valid_until = 0.0  # monotonic: until when our last renewal holds

    def holding(self) -> bool:
        import time

        now = time.monotonic()
        if now < self._valid_until - self.ttl * 2 / 3:
            return True  # renewed less than a third of a lease ago
        try:
            with self.store.transaction() as db:
                taken = take(db, self.name, self.ttl, self.store.now(db))
        except Exception:  # noqa: BLE001 — database down: hold only while surely ours
            return now < self._valid_until
        # Our view of the expiry starts before the renewal was asked: never later than theirs.
        self._valid_until = now + self.ttl if taken else 0.0
        return taken

    def remaining(self) -> float:
        """Seconds our last renewal still surely holds by our clock (0: not held)."""
        import time

        return max(0.0, self._valid_until - time.monotonic())

    def release(self) -> None:
        self._valid_until = 0.0
        try:
            with self.store.transaction() as db:
                release(db, self.name)
        except Exception:  # noqa: BLE001, S110 — it expires by itself
            pass
