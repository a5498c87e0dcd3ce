"""What a silence (or a deploy) names: a program, group or glob, optionally `@node`; `@node`
alone names everything on that node, the node's own incidents too."""

from __future__ import annotations

from collections.abc import Iterable

from bot import names
from bot.domain import ProcessInfo

NODE_LEVEL = ("*", "listener")  # the process of a node's (or its listener's) own incidents


def process_info(node: str, process: str) -> ProcessInfo:
    group, _, name = process.partition(":")
    return ProcessInfo(node, group, name or group, "", 0, 0, 0, 0, 0, None, "", "")


def covers(match: str, node: str, process: str) -> bool:
    """True when `match` names the process (group:name) on `node`, or, for a node-level
    incident, when it names the whole node."""
    if process in NODE_LEVEL:
        name, on = names.split_node(match)
        return name == "*" and on is not None and names.matches(process_info(node, "x:x"), match)
    return names.matches(process_info(node, process), match)


def first_covering(matches: Iterable[tuple[int, str]], node: str, process: str) -> int | None:
    """The id of the first (id, match) pair that covers the target."""
    return next((sid for sid, match in matches if covers(match, node, process)), None)
