"""`supbot status --self`: supbot's own processes as the shared state knows them — the `serve`
replicas, listeners, the scheduler and agents (from their heartbeats), and the leases of the
singleton roles with their holders and ages. Also the lease part of /readyz."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bot.errors import StateUnavailable
from bot.ha.replica import PREFIX as REPLICA_PREFIX

if TYPE_CHECKING:
    from bot.state import Store

QUIET_ALIVE = 180.0  # a heartbeat without a lease (listener: TICK_60) is alive this long
KINDS = (
    (REPLICA_PREFIX, "replica"),
    ("listener:", "listener"),
    ("agent:", "agent"),
    ("scheduler", "scheduler"),
)
ORDER = [kind for _, kind in KINDS] + ["other"]


@dataclass(frozen=True)
class Beat:
    kind: str  # replica | listener | agent | scheduler | other
    name: str
    host: str
    pid: int
    detail: str
    age: float  # seconds since its last heartbeat
    alive: bool  # its lease runs (or, without one, it beat within QUIET_ALIVE)


@dataclass(frozen=True)
class LeaseState:
    name: str
    holder: str  # host:pid
    held_for: float  # seconds since it was taken
    expires_in: float  # negative: expired, anyone may take it


@dataclass(frozen=True)
class SelfStatus:
    beats: tuple[Beat, ...]
    leases: tuple[LeaseState, ...]


def kind_of(name: str) -> str:
    return next((kind for prefix, kind in KINDS if name.startswith(prefix)), "other")


def gather(store: Store) -> SelfStatus:
    """Every heartbeat and lease, ages by the database's clock."""
    from bot.storage import heartbeats, leases

    with store.connect() as db:
        now = store.now(db)
        rows, held = heartbeats.every(db), leases.every(db)
    beats = tuple(_beat(row, now) for row in rows)
    return SelfStatus(
        beats=tuple(sorted(beats, key=lambda b: (ORDER.index(b.kind), b.name))),
        leases=tuple(
            LeaseState(
                lease.name, f"{lease.host}:{lease.pid}", now - lease.acquired, lease.until - now
            )
            for lease in held
        ),  # fmt: skip
    )


def _beat(row: dict[str, Any], now: float) -> Beat:
    seen, lease_until = float(row["seen"]), float(row["lease_until"] or 0.0)
    alive = lease_until > now if lease_until else seen > 0 and now - seen < QUIET_ALIVE
    detail = str(row["detail"] or "")
    return Beat(kind_of(row["name"]), row["name"], row["host"], int(row["pid"]), detail,
                now - seen if seen else -1.0, alive)  # fmt: skip


def lease_detail(store: Store, leads: list[str]) -> dict[str, Any]:
    """/readyz's lease state: which loops this replica runs, who holds each lease."""
    import os

    from bot.runs.alive import HOST

    detail: dict[str, Any] = {"replica": f"{REPLICA_PREFIX}{HOST}:{os.getpid()}", "leads": leads}
    try:
        found = gather(store).leases
    except StateUnavailable as exc:  # reported under "down" too: no second check here
        detail["leases"] = f"unknown: {exc}"
        return detail
    return {
        **detail,
        "leases": {
            lease.name: {
                "holder": lease.holder,
                "mine": lease.holder == f"{HOST}:{os.getpid()}",
                "held_for": round(lease.held_for, 1),
                "expires_in": round(lease.expires_in, 1),
            }
            for lease in found
        },
    }


def render(status: SelfStatus) -> str:
    from tabulate import tabulate

    rows = [
        [b.kind, b.name, "alive" if b.alive else "gone", _ago(b.age), b.detail]
        for b in status.beats
    ]
    parts = [
        tabulate(rows, headers=["kind", "name", "state", "last beat", "detail"])
        if rows
        else "no heartbeats: no serve, listener, scheduler or agent has run on this state"
    ]
    held = [
        [lease.name, lease.holder, _age(lease.held_for),
         f"in {_age(lease.expires_in)}" if lease.expires_in > 0 else "expired"]
        for lease in status.leases
    ]  # fmt: skip
    parts.append(
        tabulate(held, headers=["lease", "holder", "held for", "expires"])
        if held
        else "no leases held"
    )
    return "\n\n".join(parts)


def _ago(seconds: float) -> str:
    return "never" if seconds < 0 else f"{_age(seconds)} ago"


def _age(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f}m"
    if seconds < 172800:
        return f"{seconds / 3600:.0f}h"
    return f"{seconds / 86400:.0f}d"
