"""Process names and patterns: `web`, `worker:worker_00`, `worker` (a group), `web@node2`,
globs (`worker:*`, `*@node2`). A pattern matches by group:name, display name or group name."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase

from bot import errors
from bot.domain import ProcessInfo


def split_node(pattern: str) -> tuple[str, str | None]:
    """'web@node2' → ('web', 'node2'); '@node2' → ('*', 'node2'); 'web' → ('web', None)."""
    if "@" in pattern:
        name, node = pattern.rsplit("@", 1)
        return (name or "*"), (node or None)
    return pattern, None


def matches(process: ProcessInfo, pattern: str) -> bool:
    """True when `pattern` (optionally with @node) names this process or its group."""
    name, node = split_node(pattern)
    if node is not None and not fnmatchcase(process.node, node):
        return False
    candidates = (process.full_name, process.display_name, process.group)
    return any(fnmatchcase(c, name) for c in candidates)


def matches_any(process: ProcessInfo, patterns: Iterable[str]) -> bool:
    return any(matches(process, p) for p in patterns)


def is_glob(pattern: str) -> bool:
    return any(ch in pattern for ch in "*?[")


def select(processes: Iterable[ProcessInfo], pattern: str) -> list[ProcessInfo]:
    """Every process the pattern names (a group name names all its processes)."""
    return [p for p in processes if matches(p, pattern)]


def suggest(pattern: str, processes: Sequence[ProcessInfo], limit: int = 3) -> list[str]:
    """Closest names among `processes` (callers pass only what the asker may see)."""
    name, _ = split_node(pattern)
    names: dict[str, None] = {}
    for p in processes:
        names[p.display_name] = None
        names[p.group] = None
    close = difflib.get_close_matches(name, list(names), n=limit, cutoff=0.5)
    if not close:
        close = [n for n in names if name.lower() in n.lower()][:limit]
    return close


def resolve(processes: Sequence[ProcessInfo], pattern: str) -> list[ProcessInfo]:
    """The processes a pattern names, or NoSuchProcess with the closest names."""
    pattern = pattern.strip()
    if not pattern:
        raise errors.UsageError("Name a process, a group or a glob, e.g. `web` or `worker:*`.")
    found = select(processes, pattern)
    if not found:
        raise errors.NoSuchProcess(pattern, suggest(pattern, processes))
    return found


def resolve_one(processes: Sequence[ProcessInfo], pattern: str) -> ProcessInfo:
    """Exactly one process, or a clear question naming the candidates."""
    found = resolve(processes, pattern)
    if len(found) > 1:
        exact = [p for p in found if p.display_name == pattern or p.key == pattern]
        if len(exact) == 1:
            return exact[0]
        raise errors.AmbiguousName(
            pattern, [label(p, len({q.node for q in found}) > 1) for p in found]
        )
    return found[0]


def label(process: ProcessInfo, with_node: bool) -> str:
    """Display name, with @node when several nodes are involved."""
    return f"{process.display_name}@{process.node}" if with_node else process.display_name
