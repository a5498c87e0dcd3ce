"""Process names and patterns: `web`, `worker:worker_00`, `worker` (a group), `web@node2`,
globs (`worker:*`, `*@node2`). A pattern matches by group:name, display name or group name."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from fnmatch import translate
from functools import lru_cache

from bot import errors
from bot.domain import ProcessInfo, display_name


def split_node(pattern: str) -> tuple[str, str | None]:
    """'web@node2' → ('web', 'node2'); '@node2' → ('*', 'node2'); 'web' → ('web', None)."""
    if "@" in pattern:
        name, node = pattern.rsplit("@", 1)
        return (name or "*"), (node or None)
    return pattern, None


Match = Callable[[str], object]


@lru_cache(maxsize=1024)
def _compiled(pattern: str) -> tuple[Match | None, Match | None]:
    """(name matcher, node matcher) for a pattern; None where it matches anything (`*`).

    Compiled once: status checks every process of the fleet against the binding's globs.
    Same semantics as fnmatchcase, which is `re.compile(fnmatch.translate(glob)).match`.
    """
    name, node = split_node(pattern)
    name_match = None if name == "*" else re.compile(translate(name)).match
    node_match = None if node is None or node == "*" else re.compile(translate(node)).match
    return name_match, node_match


def matches(process: ProcessInfo, pattern: str) -> bool:
    """True when `pattern` (optionally with @node) names this process or its group."""
    name_match, node_match = _compiled(pattern)
    if node_match is not None and not node_match(process.node):
        return False
    if name_match is None:
        return True
    # The candidates are group:name, the display name (the name when group == name) and group.
    if name_match(process.group) or name_match(f"{process.group}:{process.name}"):
        return True
    return process.group == process.name and bool(name_match(process.name))


def matches_any(process: ProcessInfo, patterns: Iterable[str]) -> bool:
    return any(matches(process, p) for p in patterns)


def matches_all_names(pattern: str) -> bool:
    """True for `*` (or `*@*`): a pattern naming every process on every node."""
    return _compiled(pattern) == (None, None)


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


def node_label(node: str, full_name: str) -> str:
    """`web@node1`: how alerts, snoozes and the audit name one process of one node."""
    return f"{display_name(full_name)}@{node}"


def parse_node_label(label: str) -> tuple[str, str] | None:
    """`web@node1` → ('node1', 'web:web'); None without a node."""
    if "@" not in label:
        return None
    name, node = label.rsplit("@", 1)
    return node, name if ":" in name else f"{name}:{name}"
