"""Run a user's regex over log lines in a child process, so a slow pattern can be stopped.

Python's `re` cannot be interrupted and some patterns backtrack for minutes on one long line
(`.*a.*x` on a line of a's), so `bot/log_search.py` refuses the obvious ones and this module
gives every search a hard deadline: the child is killed when it runs out of time.
Protocol (stdin): a flags line ("i" or ""), the pattern line, then the lines to search;
(stdout): the 0-based index of every matching line, one a line. The child is a bare `python -I
-S` running `_CHILD` (stdlib `re` only): it starts in ~20 ms, and nothing in the working
directory or the environment can change what it imports.
"""

from __future__ import annotations

import subprocess
import sys

from bot import errors

_CHILD = """
import re, sys
data = sys.stdin.buffer.read().decode("utf-8", "replace").split("\\n")
search = re.compile(data[1], re.IGNORECASE if data[0] == "i" else 0).search
sys.stdout.write("\\n".join(str(i) for i, line in enumerate(data[2:]) if search(line)))
"""


def match_lines(pattern: str, ignore_case: bool, lines: list[str], seconds: float) -> list[int]:
    """Indices of `lines` that `pattern` finds something in; UsageError past `seconds`."""
    if not lines:
        return []
    payload = "\n".join(["i" if ignore_case else "", pattern, *lines]).encode("utf-8", "replace")
    try:
        done = subprocess.run(
            [sys.executable, "-I", "-S", "-c", _CHILD],
            input=payload,
            capture_output=True,
            timeout=max(0.1, seconds),
            check=True,
        )
    except subprocess.TimeoutExpired:
        raise errors.UsageError(
            f"The pattern took longer than the time allowed ({seconds:.0f} s) on this log; "
            "use a simpler one (a word, or `ERROR.*timeout`)."
        ) from None
    return [int(n) for n in done.stdout.split()]
