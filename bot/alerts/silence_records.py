"""Silences and deploys as frozen values (no SQLAlchemy: the `/sup` verbs hold them)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Silence:
    """Crashes of what `match` names are counted, not posted, from `created` to `until`
    (database time). `window`: the [[silences]] slot that opened it, else None (by hand)."""

    id: int
    match: str
    reason: str
    by: str
    created: float
    until: float
    ended_by: str = ""
    summarized: bool = False
    window: str | None = None


@dataclass(frozen=True)
class SilenceHit:
    """Crashes of one target counted during one silence."""

    silence: int
    node: str
    process: str
    crashes: int


@dataclass(frozen=True)
class Deploy:
    """`what` (a program, group or glob, optionally @node) at `version`, recorded at `at`."""

    id: int
    what: str
    version: str
    by: str
    actor: str
    at: float
