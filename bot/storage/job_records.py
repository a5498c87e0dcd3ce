"""Records of the scheduler's state (no SQLAlchemy: every command imports them)."""

from __future__ import annotations

from dataclasses import dataclass

FINISHED = ("ok", "failed", "missed", "interrupted")
PROBLEMS = ("failed", "missed", "interrupted")
REQUESTS_KEPT = 86400.0  # run-now requests are answered within seconds: a day is plenty


@dataclass(frozen=True)
class JobRun:
    """One run (or one missed slot) of a job. `status`: running ok failed missed interrupted,
    or `skipped` for a start refused because the previous run still held the lock (never stored)."""

    id: int
    job: str
    status: str
    trigger: str  # schedule | slack | cli | api | console
    actor: str
    started: float
    scheduled: float | None = None
    ended: float | None = None
    exit_code: int | None = None
    error: str = ""
    pgid: int = 0
    node: str = ""  # the node whose agent ran it ('' = the scheduler's host)

    @property
    def duration(self) -> float | None:
        return None if self.ended is None else max(0.0, self.ended - self.started)

    @property
    def finished(self) -> bool:
        return self.status in FINISHED

    @property
    def by(self) -> str:
        """Who started it, for people: 'schedule', '<@U1> via slack', 'cli:alice'."""
        if self.trigger == "schedule":
            return "schedule"
        if self.actor.startswith(("U", "W")):
            return f"<@{self.actor}> via {self.trigger}"
        return self.actor or self.trigger


@dataclass(frozen=True)
class JobRequest:
    """One run-now request and, once answered, its outcome."""

    id: int
    job: str
    trigger: str
    actor: str
    slot: float | None
    requested: float
    state: str  # pending taken started refused
    run_id: int | None = None
    error: str = ""
    node: str = ""  # served by that node's agent ('' = by the scheduler)


@dataclass(frozen=True)
class Owner:
    """The process that starts and supervises a run: where, which pid, started when."""

    host: str
    pid: int
    started: float


@dataclass(frozen=True)
class Holder:
    """A running run, as the holder of its job's lock: who supervises it and until when."""

    run: JobRun
    owner: Owner
    log_path: str
    lease_until: float
