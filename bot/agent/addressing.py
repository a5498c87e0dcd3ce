"""Which nodes a job or command runs on, and how an agent is named in the shared state.

No SQLAlchemy here: every command imports it.
"""

from __future__ import annotations

from collections.abc import Iterable
from fnmatch import fnmatchcase


def beat_name(node: str) -> str:
    """The agent's heartbeat (with a lease in database time)."""
    return f"agent:{node}"


def topic(node: str) -> str:
    """Notified when a job or command is queued for `node`: its agent starts it at once."""
    return f"agent_{node}"


def matches(node: str, patterns: Iterable[str]) -> bool:
    return any(fnmatchcase(node, p) for p in patterns)


def matching(patterns: Iterable[str], nodes: Iterable[str]) -> list[str]:
    """The nodes (in config order) that `patterns` name."""
    wanted = tuple(patterns)
    return [n for n in nodes if matches(n, wanted)]


def split_target(args: tuple[str, ...]) -> tuple[tuple[str, ...], str | None]:
    """`cache-clear @app2` → the command's own arguments, and `app2` (or `all`)."""
    if args and args[-1].startswith("@") and len(args[-1]) > 1:
        return args[:-1], args[-1][1:]
    return args, None
