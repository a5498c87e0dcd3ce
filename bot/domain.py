"""Domain values returned by the supervisor client and the services. Frozen, Slack-free."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

CRASH_STATES = frozenset({"BACKOFF", "FATAL"})
RUNNING_STATES = frozenset({"RUNNING", "STARTING", "BACKOFF", "STOPPING"})
STOPPED_STATES = frozenset({"STOPPED", "EXITED", "FATAL", "UNKNOWN"})


def display_name(full_name: str) -> str:
    """`group:name` as supervisorctl shows it: `web` for a one-process group."""
    group, _, name = full_name.partition(":")
    return name if group == name else full_name


@dataclass(frozen=True)
class ProcessInfo:
    node: str
    group: str
    name: str
    state: str
    pid: int
    start: int
    stop: int
    now: int
    exitstatus: int
    expected_exit: bool | None
    spawnerr: str
    description: str
    command: str = ""
    startsecs: int = 1
    memory_rss: int | None = None
    cpu_percent: float | None = None

    @property
    def full_name(self) -> str:
        """group:name, as supervisor's API takes it."""
        return f"{self.group}:{self.name}"

    @property
    def display_name(self) -> str:
        """As supervisorctl shows it: `web` for a one-process group, `worker:worker_00` otherwise."""
        return display_name(self.full_name)

    @property
    def key(self) -> str:
        return f"{self.full_name}@{self.node}"

    @property
    def uptime(self) -> float | None:
        """Seconds since start while running; None when not running."""
        if self.state in ("RUNNING", "STOPPING") and self.start:
            return max(0, self.now - self.start)
        return None

    @property
    def crashed(self) -> bool:
        """Unexpected EXITED, BACKOFF or FATAL."""
        if self.state in CRASH_STATES:
            return True
        return self.state == "EXITED" and self.expected_exit is False

    @property
    def running(self) -> bool:
        return self.state in RUNNING_STATES

    @property
    def bucket(self) -> str:
        """running / crashed / stopped, for totals."""
        if self.crashed:
            return "crashed"
        return "running" if self.running else "stopped"


@dataclass(frozen=True)
class NodeStatus:
    node: str
    processes: tuple[ProcessInfo, ...]
    fetched_at: float  # when the read began
    error: str | None = None
    local: bool = False
    answered_at: float = 0.0  # when its answer had arrived (0: not known)


@dataclass(frozen=True)
class Totals:
    total: int = 0
    running: int = 0
    stopped: int = 0
    crashed: int = 0

    @classmethod
    def of(cls, processes: tuple[ProcessInfo, ...] | list[ProcessInfo]) -> Totals:
        buckets = [p.bucket for p in processes]
        return cls(
            len(buckets),
            buckets.count("running"),
            buckets.count("stopped"),
            buckets.count("crashed"),
        )


@dataclass(frozen=True)
class ActionOutcome:
    """What happened to one process after start/stop/restart/signal/clear."""

    process: str
    node: str
    action: str
    ok: bool
    message: str
    state: str = ""
    pid: int = 0
    seconds: float = 0.0
    spawnerr: str = ""
    log_tail: str = ""


@dataclass(frozen=True)
class LogSearch:
    """How a `tail --grep` searched: `lines` of its LogTail are the matches with context."""

    pattern: str
    ignore_case: bool
    matches: int  # matching lines shown (context lines not counted)
    searched: int  # bytes scanned, from the end of the log
    size: int  # the log's size in bytes
    context: int = 0


@dataclass(frozen=True)
class LogTail:
    process: str
    node: str
    stream: str
    lines: tuple[str, ...]
    truncated: bool
    offset: int = 0
    requested: int = 100
    search: LogSearch | None = None  # set by `tail --grep`


@dataclass(frozen=True)
class ReloadDiff:
    node: str
    added: tuple[str, ...] = ()
    changed: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    @property
    def fingerprint(self) -> str:
        """Short and stable: it travels in a button value (2,000 chars max) and back."""
        text = f"{self.node}|+{','.join(self.added)}|~{','.join(self.changed)}|-{','.join(self.removed)}"
        return f"{self.node}:{hashlib.sha256(text.encode()).hexdigest()[:16]}"


@dataclass(frozen=True)
class ReloadResult:
    diff: ReloadDiff
    ok: bool
    messages: tuple[str, ...] = field(default_factory=tuple)
