"""Memory and CPU figures as read on a node's host (bot/samples.py). No SQLAlchemy here:
`info` and `status` import these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Usage:
    rss: int  # bytes, the process and its children
    cpu: float  # percent of one core, averaged since the previous round
    pid: int = 0  # the process sampled (a restarted process has other figures)


@dataclass(frozen=True)
class NodeUsage:
    """A node's processes together, in its newest round."""

    node: str
    age: float  # seconds since the round, by the database's clock
    rss: int
    cpu: float
    count: int  # processes sampled


@dataclass(frozen=True)
class ProcessUsage:
    """One process: its newest figures, their age, and the last hour for sparklines."""

    latest: Usage
    age: float  # seconds since the newest round, by the database's clock
    history: tuple[Usage, ...] = ()


@dataclass(frozen=True)
class RecentHistory:
    """A process's last hour of memory (RSS, oldest first) and its restarts of the last
    RESTARTS_WINDOW; None when the node's events are not recorded. For App Home."""

    rss: tuple[int, ...] = ()
    restarts: int | None = None
