"""A command run addressed to a node's agent (table command_runs), without SQLAlchemy."""

from __future__ import annotations

from dataclasses import dataclass

OPEN = ("pending", "running")


@dataclass(frozen=True)
class CommandRun:
    id: int
    node: str
    command: str
    args: tuple[str, ...]
    actor: str
    state: str  # pending running ok failed refused interrupted
    requested: float
    started: float | None = None
    ended: float | None = None
    exit_code: int | None = None
    duration: float = 0.0
    output: str = ""
    error: str = ""
    lease_until: float = 0.0

    @property
    def finished(self) -> bool:
        return self.state not in OPEN
