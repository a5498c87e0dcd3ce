"""What the alerts keep, as frozen values: the store returns these, the renderers take them.

Nothing here knows how they are stored (bot/alerts/store/ does), so the engine, delivery and
the renderers work the same whichever database holds them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from bot.alerts.silence_records import Deploy
from bot.domain import ProcessInfo

ProcessKey = tuple[str, str]  # (node, group:name)
Interval = tuple[float, float]  # (from, to) epoch seconds


@dataclass(frozen=True)
class ProcessEvent:
    """One observed transition. `stop` is supervisord's stop time when known (watcher), else
    the time the event was received (listener); `pid` is the pid that exited, 0 if unknown."""

    node: str
    process: str  # group:name
    state: str
    source: str  # listener | watcher | log | health
    from_state: str = ""
    pid: int = 0
    stop: float = 0.0
    exitstatus: int | None = None
    tries: int = 0
    expected: bool | None = None
    serial: str = ""

    @property
    def crash(self) -> bool:
        if self.state == "EXITED":
            return self.expected is False
        return self.state in ("BACKOFF", "FATAL")

    @property
    def key(self) -> str:
        if self.source == "log":  # a line of supervisord's log: its time is its identity
            return f"L|{self.node}|{self.process}|{self.state}|{self.stop:.3f}"
        if self.source == "watcher":
            return f"W|{self.node}|{self.process}|{self.state}|{self.pid}|{self.stop:.0f}"
        return f"{self.source[0].upper()}|{self.node}|{self.process}|{self.state}|{self.serial}|{time.time():.6f}"


@dataclass(frozen=True)
class EventRecord:
    """One recorded process or node event, as the incident engine reads it back."""

    id: int
    at: float  # when it was recorded
    node: str
    process: str  # group:name, or "*" / "listener" for node-level events
    state: str
    from_state: str
    pid: int
    stop: float
    exitstatus: int | None
    tries: int
    source: str
    outcome: str = ""


@dataclass(frozen=True)
class Incident:
    """One process (or node, or listener) trouble, from its first crash to its recovery."""

    id: int
    kind: str  # process | node | listener
    node: str
    process: str
    channel: str
    status: str  # open | recovered | stopped | resolved (by hand)
    opened: float
    last: float
    closed: float | None
    crashes: int
    state: str
    from_state: str
    exitstatus: int | None
    pid: int
    tries: int
    recovered_pid: int
    rollup: int | None
    snoozed: bool  # opened while snoozed: never shown yet
    ts: str | None  # the Slack message, once posted
    log: list[str] | None  # the log tail fetched for the first message
    acked_by: str | None = None  # who took ownership (a Slack user ID, cli:…, api:…)
    acked_at: float | None = None
    escalated: int = 0  # escalation levels already posted
    note: str = ""  # the note given when resolved by hand


@dataclass(frozen=True)
class Rollup:
    """The storm roll-up of one channel: one message for the incidents past its budget."""

    id: int
    channel: str
    opened: float
    last: float
    ts: str | None


@dataclass(frozen=True)
class OutboxRow:
    """One message or edit waiting to be sent (or being sent)."""

    id: int
    channel: str
    kind: str  # incident | thread | rollup | digest | audit | job
    ref: int
    payload: dict[str, Any]
    attempts: int
    status: str = "pending"
    claimed_by: str = ""
    claimed_at: float = 0.0
    not_before: float = 0.0


@dataclass(frozen=True)
class Pace:
    """A channel's token bucket (shared by every process that delivers)."""

    tokens: float
    updated: float
    not_before: float


@dataclass(frozen=True)
class Snooze:
    node: str
    process: str
    until: float
    by: str
    created: float
    suppressed: int  # crashes counted while snoozed


@dataclass(frozen=True)
class Digest:
    """What one channel's digest says, gathered; digest_render turns it into a message."""

    since: float
    until: float
    crashes: dict[ProcessKey, int]
    starts: dict[ProcessKey, int]
    down: dict[ProcessKey, list[Interval]]  # from a crash to the next RUNNING
    stopped: list[ProcessInfo]  # not running now
    unreachable: list[str]  # nodes
    jobs: list[tuple[str, str, int]] | None  # (job, status, runs); None without a scheduler
    deploys: list[Deploy] = field(default_factory=list)  # of this channel's programs
