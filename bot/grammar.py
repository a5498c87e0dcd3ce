"""The `/sup` grammar, shared by Slack and the console: text in, a `Command` out."""

from __future__ import annotations

import difflib
import shlex
from dataclasses import dataclass, field

from bot import errors
from bot.usertext import quote as typed

MAX_TEXT = 2000


@dataclass(frozen=True)
class Verb:
    name: str
    usage: str
    summary: str
    min_args: int = 0
    max_args: int | None = 0
    flags: tuple[str, ...] = ()


VERBS: dict[str, Verb] = {}


def verb(v: Verb) -> Verb:
    """Register a subcommand (later features add theirs the same way)."""
    VERBS[v.name] = v
    return v


for _v in (
    Verb(
        "status",
        "status [pattern|@node] [--fresh] [--page N]",
        "processes with state, PID, uptime",
        0,
        1,
        ("--fresh", "--page"),
    ),
    Verb("info", "info <process>", "everything known about one process", 1, 1),
    Verb("start", "start <process|group|glob>…", "start processes", 1, None, ("--yes",)),
    Verb("stop", "stop <process|group|glob>…", "stop processes", 1, None, ("--yes",)),
    Verb(
        "restart", "restart <process|group|glob>…", "stop then start processes", 1, None, ("--yes",)
    ),
    Verb("signal", "signal <process> <SIG>", "send a signal (HUP, USR1, …)", 2, 2, ("--yes",)),
    Verb(
        "tail",
        "tail <process> [N] [--stderr] [--follow | --grep REGEX [-i] [-C N]]",
        "last N log lines (default 100); --grep: the last N matching lines",
        1,
        2,
        ("--stderr", "--follow", "-f", "-n", "--grep", "-i", "-C"),
    ),
    Verb("clear", "clear <process>", "clear a process's logs", 1, 1, ("--yes",)),
    Verb(
        "reload", "reload", "show what reread + update would change, then apply", 0, 0, ("--apply",)
    ),
    Verb("jobs", "jobs", "scheduled jobs: schedule, next runs, last result", 0, 0),
    Verb("job", "job run|history <name> [run-id]", "run a job (or Laravel task) now", 2, 3),
    Verb(
        "schedule", "schedule run [@node]", "run the due jobs (@node: Laravel's schedule:run)", 1, 2
    ),
    Verb("commands", "commands", "the allow-listed commands you may run here", 0, 0),
    Verb("run", "run <command> [args…]", "run an allow-listed command", 1, None),
    Verb("snooze", "snooze [<process> [1h|24h]]", "list snoozed alerts, or snooze one", 0, 2),
    Verb("unsnooze", "unsnooze <process>", "cancel a snooze", 1, 1),
    Verb("incidents", "incidents", "open incidents: who acked, age, crashes", 0, 0),
    Verb("ack", "ack <incident>", "take ownership of an incident (stops escalation)", 1, 1),
    Verb("unack", "unack <incident>", "give an incident back", 1, 1),
    Verb("resolve", "resolve <incident> [note…]", "close an incident by hand", 1, None),
    Verb(
        "silence",
        "silence <process|glob|@node> <30m> [reason…]",
        "count crashes but post none for a while (a deploy)",
        2,
        None,
    ),
    Verb("silences", "silences", "silences in force, with the crashes they held back", 0, 0),
    Verb("unsilence", "unsilence <silence>", "end a silence now (its summary follows)", 1, 1),
    Verb("help", "help [subcommand]", "this help", 0, 1),
    Verb("cancel", "cancel", "dismiss a pending confirmation", 0, None),
):
    verb(_v)


@dataclass(frozen=True)
class Command:
    verb: str
    args: tuple[str, ...] = ()
    flags: frozenset[str] = frozenset()
    options: dict[str, str] = field(default_factory=dict, hash=False)
    text: str = ""

    def flag(self, name: str) -> bool:
        return name in self.flags

    @property
    def lines(self) -> int:
        """The line count of `tail` (positional N or -n N)."""
        raw = self.options.get("-n") or (self.args[1] if len(self.args) > 1 else "100")
        try:
            return int(raw)
        except ValueError:
            raise errors.UsageError(
                f"{typed(raw, 20)} is not a line count; use a number like 50."
            ) from None

    @property
    def grep(self) -> str | None:
        """The pattern of `tail --grep`, or None for a plain tail."""
        return self.options.get("--grep")

    @property
    def context(self) -> int:
        """The context lines of `tail --grep` (`-C N`, 0 to 10)."""
        raw = self.options.get("-C", "0")
        if not (raw.isascii() and raw.isdigit()) or int(raw) > 10:
            raise errors.UsageError(
                f"{typed(raw, 20)} is not a context line count; use 0 to 10, e.g. `-C 2`."
            )
        return int(raw)

    @property
    def page(self) -> int:
        """The page of a large `status` (`--page N`, 1-based)."""
        raw = self.options.get("--page", "1")
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= 1000:
            raise errors.UsageError(f"{typed(raw, 20)} is not a page number; use e.g. `--page 2`.")
        return int(raw)


# Options that take the next word as their value, with an example for the error message.
_VALUE_OPTIONS = {"--grep": "tail web --grep ERROR", "-C": "tail web --grep ERROR -C 2"}


def nearest(word: str, limit: int = 3) -> list[str]:
    return difflib.get_close_matches(word, list(VERBS), n=limit, cutoff=0.4)


def usage_line(word: str) -> str:
    close = nearest(word)
    hint = f" Did you mean {', '.join(f'`{c}`' for c in close)}?" if close else ""
    return f"Unknown subcommand {typed(word, 40)}.{hint} Try `help`."


def parse(text: str) -> Command:
    """Parse `/sup` text; raise UsageError with a short, helpful message."""
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise errors.UsageError(
            f"That is {len(text)} characters; /sup commands are short. Try `help`."
        )
    if not text:
        return Command("status", text="status")
    try:
        words = shlex.split(text)
    except ValueError:
        raise errors.UsageError("Unbalanced quotes in the command. Try `help`.") from None
    if not words:
        return Command("status", text="status")
    name, rest = words[0].lower(), words[1:]
    spec = VERBS.get(name)
    if spec is None:
        raise errors.UsageError(usage_line(words[0]))
    if name == "run":
        # Everything after the command name is an argument, passed as argv (never a shell).
        if not rest:
            raise errors.UsageError(f"Usage: `{spec.usage}`")
        return Command(name, tuple(rest), frozenset(), {}, text)
    args: list[str] = []
    flags: set[str] = set()
    options: dict[str, str] = {}
    i = 0
    while i < len(rest):
        word = rest[i]
        if word == "--page" and "--page" in spec.flags:
            if i + 1 >= len(rest):
                raise errors.UsageError("`--page` needs a page number, e.g. `status --page 2`.")
            options["--page"] = rest[i + 1]
            i += 2
            continue
        if word in ("-n", "--lines") and "-n" in spec.flags:
            if i + 1 >= len(rest):
                raise errors.UsageError("`-n` needs a number of lines, e.g. `tail web -n 50`.")
            options["-n"] = rest[i + 1]
            i += 2
            continue
        if word in _VALUE_OPTIONS and word in spec.flags:
            if i + 1 >= len(rest):
                raise errors.UsageError(f"`{word}` needs a value, e.g. `{_VALUE_OPTIONS[word]}`.")
            options[word] = rest[i + 1]
            i += 2
            continue
        if word.startswith("--") or (
            word.startswith("-") and len(word) == 2 and not word[1].isdigit()
        ):
            canonical = "--follow" if word == "-f" else word
            if canonical not in spec.flags and word not in spec.flags:
                allowed = ", ".join(f for f in spec.flags if f != "-n") or "none"
                raise errors.UsageError(
                    f"`{name}` has no option {typed(word, 30)} (options: {allowed})."
                )
            flags.add(canonical)
        else:
            args.append(word)
        i += 1
    if "--grep" not in options and ("-i" in flags or "-C" in options):
        raise errors.UsageError("`-i` and `-C` go with `--grep`, e.g. `tail web --grep error -i`.")
    if "--grep" in options and "--follow" in flags:
        raise errors.UsageError("`--grep` and `--follow` do not go together; use one or the other.")
    if name == "reload" and "--apply" in flags:
        return Command(name, tuple(args), frozenset(flags), options, text)
    if len(args) < spec.min_args or (spec.max_args is not None and len(args) > spec.max_args):
        raise errors.UsageError(f"Usage: `{spec.usage}`")
    return Command(name, tuple(args), frozenset(flags), options, text)


def quote(*words: str) -> str:
    """Command text for a button or a numbered choice."""
    return " ".join(shlex.quote(w) for w in words)


def help_text(topic: str = "") -> str:
    if topic:
        spec = VERBS.get(topic.lower())
        if spec is None:
            return usage_line(topic)
        return f"`{spec.usage}` — {spec.summary}"
    width = max(len(v.usage) for v in VERBS.values())
    return "\n".join(f"{v.usage.ljust(width)}  {v.summary}" for v in VERBS.values())
