"""Refuse user regexes that are known to backtrack for ages, with a message saying why.

A cheap first line of defence for `tail --grep` (the second is the child process's deadline,
bot/log_match.py): a length cap, one line, and no repetition of something that itself repeats
or alternates (`(a+)+`,
`(a|aa)*`). Polynomial cases such as `.*a.*x` are left to the deadline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot import errors
from bot.usertext import quote

MAX_PATTERN = 200
_BRACES = re.compile(r"\{(\d*)(,?)(\d*)\}")
_SIMPLE = "simpler patterns work: a word, `ERROR.*timeout`, `(GET|POST) /api`"


@dataclass
class _Group:
    repeats: bool = False  # something inside repeats (+, *, {2,})
    alternates: bool = False  # has a top-level `|`


def compile_user_regex(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    """The compiled pattern, or UsageError naming what is wrong and what would work."""
    if not pattern:
        raise errors.UsageError("`--grep` needs a pattern, e.g. `tail web --grep ERROR`.")
    if len(pattern) > MAX_PATTERN:
        raise errors.UsageError(
            f"The pattern is {len(pattern)} characters; at most {MAX_PATTERN} are allowed."
        )
    if "\n" in pattern or "\r" in pattern:
        raise errors.UsageError("The pattern must be one line: lines are searched one by one.")
    try:
        compiled = re.compile(pattern, re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        raise errors.UsageError(
            f"{quote(pattern, 60)} is not a valid regular expression ({exc})."
        ) from None
    problem = risky(pattern)
    if problem:
        raise errors.UsageError(f"{quote(pattern, 60)} is refused: {problem}; {_SIMPLE}.")
    return compiled


def risky(pattern: str) -> str:
    """Why `pattern` (a valid regex) could backtrack catastrophically, or ""."""
    stack = [_Group()]
    last_group: _Group | None = None  # the group just closed, if the last atom was one
    i = 0
    while i < len(pattern):
        c = pattern[i]
        quantifier = _quantifier(pattern, i)
        if quantifier:
            length, repeats, unbounded = quantifier
            nested = last_group and (last_group.repeats or (unbounded and last_group.alternates))
            if repeats and nested:
                return "it repeats a group that itself repeats or alternates, like `(a+)+`"
            stack[-1].repeats |= repeats
            last_group = None
            i += length
            if i < len(pattern) and pattern[i] in "?+":  # lazy or possessive
                i += 1
            continue
        last_group = None
        if c == "\\":
            i += 2
        elif c == "[":
            i = _class_end(pattern, i)
        elif c == "(":
            stack.append(_Group())
            i += 1
            if pattern.startswith("?", i):  # (?:  (?P<name>  (?=  (?<!  (?i)
                i += 2 if pattern[i + 1 : i + 2] != "<" else 3
        elif c == ")":
            last_group = stack.pop() if len(stack) > 1 else _Group()
            stack[-1].repeats |= last_group.repeats
            i += 1
        else:
            stack[-1].alternates |= c == "|"
            i += 1
    return ""


def _quantifier(pattern: str, i: int) -> tuple[int, bool, bool] | None:
    """(length, repeats more than once, unbounded) of a quantifier at `i`, or None."""
    c = pattern[i]
    if c in "*+?":
        return 1, c != "?", c != "?"
    m = _BRACES.match(pattern, i) if c == "{" else None
    if m is None or not (m.group(1) or m.group(3)):
        return None
    unbounded = bool(m.group(2)) and not m.group(3)
    most = 2 if unbounded else int(m.group(3) or m.group(1))
    return m.end() - i, most > 1, unbounded


def _class_end(pattern: str, i: int) -> int:
    """The index just after the character class starting at `i` (`[]a]`, `[^]]`, `[\\]]`)."""
    j = i + 1
    if pattern.startswith("^", j):
        j += 1
    if pattern.startswith("]", j):
        j += 1
    while j < len(pattern) and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1
