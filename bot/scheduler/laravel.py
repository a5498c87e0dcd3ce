"""Laravel's `php artisan schedule:list`, parsed: JSON (12.29+) or the text of older versions.

Three shapes exist, reconstructed from Laravel's ScheduleListCommand and its tests:
- 8.x: a table `| Command | Interval | Description | Next Due |`, the next due as
  `Y-m-d H:i:s P`, the command as PHP spells it (`'/usr/bin/php' 'artisan' inspire`);
- 9.x–12.28: one line a task, `  0 14,18 * * *  php artisan inspire .... Next Due: 14 hours
  from now` (`-v`: the date as `Y-m-d H:i:s P`, and a `⇁ description` line under it); since
  10.x sub-minute tasks show their repeat (`* * * * * 10s  php artisan inspire …`);
- 12.29+ `--json`: a list of {expression, command, description, next_due_date, timezone,
  has_mutex, repeat_seconds, …}.
"""

from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePath

ANSI = re.compile(r"\x1b\[[0-9;]*m")
DATE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [+-]\d\d:\d\d")
LINE = re.compile(
    r"^\s*(?P<expr>\S+(?:\s+\S+){4})\s+(?:(?P<repeat>\d+)s\s+)?(?P<command>.*?)\s+\.*\s*"
    r"(?P<mutex>Has Mutex › )?Next Due: (?P<next>.+?)\s*$"
)
# `php artisan X` or `'/usr/bin/php8.2' 'artisan' X`: X is what schedule:test --name matches
ARTISAN = re.compile(
    r"^(?:'[^']*php[\d.]*'|\S*php[\d.]*)\s+(?:'[^']*artisan'|\S*artisan)\s+(?P<rest>.+)$"
)
EMPTY = "No scheduled tasks have been defined."


class ListingError(ValueError):
    """The output is neither Laravel's JSON nor one of its text shapes."""


@dataclass(frozen=True)
class LaravelTask:
    expression: str  # five cron fields, as Laravel evaluates them
    command: str  # as Laravel shows it: `php artisan inspire`, a job class, `Closure at: …`
    description: str = ""
    next_due: float | None = None  # epoch, when Laravel printed a date
    next_due_text: str = ""  # as printed: a date or "14 hours from now"
    repeat_seconds: int | None = None
    timezone: str | None = None  # the listing's timezone (JSON only)
    has_mutex: bool = False

    @property
    def name(self) -> str:
        """The name `schedule:test --name=` matches: the command after `php artisan`."""
        found = ARTISAN.match(self.command)
        return found["rest"] if found else self.command

    @property
    def testable(self) -> bool:
        """8.x shows a closure as no command at all, later versions as `Closure at: …`."""
        return bool(self.command) and not self.command.startswith("Closure at:")


def command_words(command: str) -> list[str]:
    """`'/usr/bin/php8.1' 'artisan' inspire` → ['php', 'artisan', 'inspire']."""
    try:
        words = shlex.split(command)
    except ValueError:
        words = command.split()
    out = []
    for i, word in enumerate(words):
        base = PurePath(word).name
        if i == 0 and re.fullmatch(r"php[\d.]*", base):
            word = "php"
        elif base == "artisan":
            word = "artisan"
        out.append(word)
    return out


def parse_date(text: str) -> float | None:
    if not DATE.fullmatch(text.strip()):
        return None
    return datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S %z").timestamp()


def parse_listing(output: str) -> list[LaravelTask]:
    """Any of the three shapes; raise ListingError when it is none of them."""
    text = ANSI.sub("", output).strip()
    if text.startswith("["):
        return parse_json(text)
    if not text or EMPTY in text:
        return []
    if any(line.lstrip().startswith(("|", "+-")) for line in text.splitlines()):
        return parse_table(text)
    return parse_lines(text)


def parse_json(text: str) -> list[LaravelTask]:
    try:
        items = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ListingError(f"unreadable JSON ({exc.msg})") from None
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise ListingError("the JSON is not a list of tasks")
    out = []
    for item in items:
        expr, due = str(item.get("expression") or ""), str(item.get("next_due_date") or "")
        if len(expr.split()) != 5:
            raise ListingError(f"task without a cron expression: {str(item)[:80]}")
        repeat = item.get("repeat_seconds")
        out.append(
            LaravelTask(
                expression=expr,
                command=str(item.get("command") or ""),
                description=str(item.get("description") or ""),
                next_due=parse_date(due),
                next_due_text=due or str(item.get("next_due_date_human") or ""),
                repeat_seconds=int(repeat) if isinstance(repeat, int) else None,
                timezone=str(item["timezone"]) if item.get("timezone") else None,
                has_mutex=bool(item.get("has_mutex")),
            )
        )
    return out


def parse_table(text: str) -> list[LaravelTask]:
    """Laravel 8.x: Symfony's table, first row the header."""
    rows = [
        [cell.strip() for cell in line.strip().strip("|").split("|")]
        for line in text.splitlines()
        if line.strip().startswith("|")
    ]
    if not rows or rows[0][:2] != ["Command", "Interval"] or len(rows[0]) != 4:
        raise ListingError("a table, but not schedule:list's (Command | Interval | …)")
    out = []
    for command, expr, description, due in (r for r in rows[1:] if len(r) == 4):
        out.append(LaravelTask(expr, command, description, parse_date(due), due))
    return out


def parse_lines(text: str) -> list[LaravelTask]:
    """Laravel 9.x–12.28: one line a task, `-v` adds a `⇁ description` line."""
    out: list[LaravelTask] = []
    for line in text.splitlines():
        if not line.strip():
            continue
        if line.strip().startswith("⇁") and out:
            last = out[-1]
            out[-1] = LaravelTask(**{**last.__dict__, "description": line.strip()[1:].strip()})
            continue
        found = LINE.match(line)
        if found is None:
            raise ListingError(f"unexpected line {line.strip()[:80]!r}")
        due, repeat = found["next"], found["repeat"]
        out.append(
            LaravelTask(
                expression=" ".join(found["expr"].split()),
                command=found["command"].strip(),
                next_due=parse_date(due),
                next_due_text=due,
                repeat_seconds=int(repeat) if repeat else None,
                has_mutex=bool(found["mutex"]),
            )
        )
    return out
