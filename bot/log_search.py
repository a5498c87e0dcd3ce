"""`tail --grep`: the last N lines of a log that match a pattern, searched from the end.

Reads backwards in windows that grow 4× from 256 KiB, never more than `[logs] search_bytes`
(8 MiB by default) — from the log file when the node is on this host, else through
`readProcess{Stdout,Stderr}Log` (bot/log_file.py) — and stops as soon as the newest N
matches and their context are in hand. Matching runs in a child process with a deadline
(bot/log_match.py); a line counts only if its *redacted* text matches, so a search cannot
probe for a secret that the output would hide.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.domain import LogSearch, LogTail
from bot.log_file import LogWindows, log_windows
from bot.log_match import match_lines
from bot.redact import Redactor
from bot.regex_guard import compile_user_regex
from bot.supervisor.client import NodeClient

DEFAULT_SEARCH_BYTES = 8 * 1024 * 1024
SEARCH_SECONDS = 10.0  # all the matching of one search may take
MAX_CONTEXT = 10
_FIRST_WINDOW = 256 * 1024
_MAX_WINDOW = 4 * 1024 * 1024


@dataclass(frozen=True)
class GrepRequest:
    pattern: str
    ignore_case: bool = False
    lines: int = 100  # the newest matches to return
    context: int = 0  # lines shown before and after each match
    stream: str = "stdout"


@dataclass
class _Scan:
    lines: list[str]  # the complete lines read so far, oldest first
    hits: list[int]  # indices into `lines` of the matching ones, ascending
    searched: int  # bytes read back from the end


def grep_log(
    client: NodeClient, full_name: str, ask: GrepRequest, redactor: Redactor, max_bytes: int
) -> LogTail:
    """The newest `ask.lines` matching lines of one process's log, with context, redacted."""
    compile_user_regex(ask.pattern, ask.ignore_case)  # refuses before any reading
    size = client.log_size(full_name, ask.stream)
    with log_windows(client, full_name, ask.stream, size) as log:
        return search_log(log, client.name, full_name, ask, redactor, size, max_bytes)


def search_log(
    log: LogWindows,
    node: str,
    full_name: str,
    ask: GrepRequest,
    redactor: Redactor,
    size: int,
    max_bytes: int,
) -> LogTail:
    """`grep_log` over a given reader of a log of `size` bytes."""
    compiled = compile_user_regex(ask.pattern, ask.ignore_case)
    scan = _scan(log, ask, size, max_bytes)
    chosen = scan.hits[-ask.lines :]
    shown: list[str] = []
    kept = 0
    for group in _groups(chosen, ask.context, len(scan.lines)):
        first, last = group[0] - ask.context, group[-1] + ask.context
        first, last = max(0, first), min(len(scan.lines) - 1, last)
        text = redactor.redact_lines(scan.lines[first : last + 1])
        # A hit whose redacted line no longer matches was matching a secret: not shown.
        # (Lines are redacted together for the output, where a key block becomes one line.)
        real = [h for h in group if compiled.search(redactor.redact(scan.lines[h]))]
        if not real or not compiled.search("\n".join(text)):
            continue
        kept += len(real)
        if shown:
            shown.append("--")
        shown.extend(text)
    search = LogSearch(ask.pattern, ask.ignore_case, kept, scan.searched, size, ask.context)
    truncated = len(scan.hits) > ask.lines or scan.searched < size
    return LogTail(full_name, node, ask.stream, tuple(shown), truncated, size, ask.lines, search)


def _scan(log: LogWindows, ask: GrepRequest, size: int, max_bytes: int) -> _Scan:
    """Read windows from the end until N matches (with their context before) or the limit."""
    floor = max(0, size - max_bytes)
    scan = _Scan([], [], 0)
    head = ""  # the first, maybe partial, line of the oldest window read
    end, window = size, _FIRST_WINDOW
    deadline = time.monotonic() + SEARCH_SECONDS
    while end > floor:
        text, start, _ = log.window(max(floor, end - window), end)
        if end == size:
            text = text[:-1] if text.endswith("\n") else text  # no empty line after the last
        pieces = (text + head).split("\n")
        head, complete = (pieces[0], pieces[1:]) if start > 0 else ("", pieces)
        hits = match_lines(ask.pattern, ask.ignore_case, complete, deadline - time.monotonic())
        scan.hits = hits + [h + len(complete) for h in scan.hits]
        scan.lines[:0] = complete
        end, window = start, min(window * 4, _MAX_WINDOW)
        scan.searched = size - end
        if len(scan.hits) >= ask.lines and scan.hits[-ask.lines] >= ask.context:
            break
    return scan


def _groups(hits: list[int], context: int, count: int) -> list[list[int]]:
    """Hits whose context ranges touch or overlap, grouped (grep's `--` separates groups)."""
    groups: list[list[int]] = []
    for h in hits:
        if groups and h - context <= groups[-1][-1] + context + 1:
            groups[-1].append(h)
        else:
            groups.append([h])
    return groups
