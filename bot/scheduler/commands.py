"""CommandService: allow-listed commands, run on this host as argv (never through a shell).

Arguments are accepted only when the command declares an `args` pattern; each must match it
in full, and `;`, `|`, `$(`, backticks and newlines are refused whatever the pattern says —
all checked before anything runs. `[[command_sources]]` add discovered commands (e.g. the
entries of `php artisan list --format=json` matching `allow` globs); when discovery fails the
configured list is all there is. Discovered entries run as the source command's words before
`list` plus the entry name (`php artisan cache:clear`), and take no arguments.
"""

from __future__ import annotations

import difflib
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from fnmatch import fnmatchcase
from typing import Any

from bot import errors
from bot.audit import AuditLog
from bot.auth import Access, refusal
from bot.config import CommandSource, Settings
from bot.redact import Redactor
from bot.scheduler.execute import Outcome, ProgramMissing, environment, start, supervise
from bot.secret_values import own_secret_values
from bot.usertext import char_name, hidden_char, quote

log = logging.getLogger("supbot.commands")

FORBIDDEN = re.compile(r"[;|`\n\r\x00]|\$\(")
DISCOVERY_TTL = 60.0
OUTPUT_INTERVAL = 2.0


class UnknownCommand(errors.SupbotError):
    exit_code = 2


@dataclass(frozen=True)
class CommandSpec:
    name: str
    command: tuple[str, ...]
    description: str = ""
    args: str | None = None  # a regex each argument must fullmatch; None = no arguments
    timeout: float = 300.0
    cwd: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    source: str = "config"  # or the [[command_sources]] name


@dataclass(frozen=True)
class CommandResult:
    name: str
    args: tuple[str, ...]
    exit_code: int | None
    duration: float
    output: str  # redacted tail: last ~100 lines / 64 KB
    error: str = ""  # e.g. timed out
    actor: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.error


class CommandService:
    def __init__(self, settings: Settings, audit: AuditLog, redactor: Redactor) -> None:
        self.settings, self.audit, self.redactor = settings, audit, redactor
        self.logs_dir = settings.storage.dir / "runs"
        self.max_output = settings.max_output
        self._secrets = own_secret_values(settings)
        self._discovered: tuple[float, list[CommandSpec]] = (0.0, [])
        self._lock = threading.Lock()
        self.discovery_errors: list[str] = []

    # --- listing ----------------------------------------------------------------------------

    def all_commands(self) -> list[CommandSpec]:
        configured = [
            CommandSpec(c.name, c.command, c.description, c.args, c.timeout, c.cwd, c.env)
            for c in self.settings.commands
        ]
        names = {c.name for c in configured}
        return configured + [d for d in self._discover() if d.name not in names]

    def list_commands(self, access: Access) -> list[CommandSpec]:
        """What the asker may see, shown safely: env values hidden, argv redacted."""
        return [self._shown(c) for c in self._visible(access)]

    def _visible(self, access: Access) -> list[CommandSpec]:
        return [
            c for c in self.all_commands() if access.allows_named("commands", "commands", c.name)
        ]

    def _shown(self, spec: CommandSpec) -> CommandSpec:
        argv = tuple(self.redactor.redact(word) for word in spec.command)
        return replace(spec, command=argv, env={k: "[hidden]" for k in spec.env})

    def _discover(self) -> list[CommandSpec]:
        if not self.settings.command_sources:
            return []
        with self._lock:
            at, found = self._discovered
            if time.monotonic() - at < DISCOVERY_TTL and at:
                return found
            found, problems = [], []
            for source in self.settings.command_sources:
                try:
                    found += self._discover_one(source)
                except (errors.SupbotError, OSError, ValueError) as exc:
                    problems.append(f"{source.name}: {exc}")
                    log.warning("command discovery %s failed: %s", source.name, exc)
            self._discovered, self.discovery_errors = (time.monotonic(), found), problems
            return found

    def _discover_one(self, source: CommandSource) -> list[CommandSpec]:
        env = environment({}, self._secrets)
        path = self.logs_dir / f"discover-{uuid.uuid4().hex}.json"
        try:
            proc = start(source.command, source.cwd, env, path)
            outcome = supervise(
                proc, path, self.redactor, source.timeout, max_output=self.max_output
            )
            if not outcome.ok:
                raise ValueError(outcome.error or f"exited with {outcome.exit_code}")
            entries = parse_listing(json.loads(path.read_text(encoding="utf-8", errors="replace")))
        finally:
            path.unlink(missing_ok=True)
        words = list(source.command)
        prefix = tuple(words[: words.index("list")] if "list" in words else words[:1])
        return [
            CommandSpec(name, (*prefix, name), desc, None, 300.0, source.cwd, {}, source.name)
            for name, desc in entries
            if any(fnmatchcase(name, glob) for glob in source.allow)
        ]

    # --- running ----------------------------------------------------------------------------

    def check(self, access: Access, name: str, args: tuple[str, ...] | list[str]) -> CommandSpec:
        """Everything that can refuse a run, before anything runs."""
        spec = next((c for c in self._visible(access) if c.name == name), None)
        if spec is None:
            self._audit(access, name, args, "refused", "unknown command")
            raise UnknownCommand(self._unknown(access, name))
        if not access.allows_named("run", "commands", name):
            self._audit(access, name, args, "refused", "not allowed")
            raise errors.Forbidden(refusal(access.actor, "run", name))
        problem = check_args(spec, tuple(args))
        if problem:
            self._audit(access, name, args, "refused", problem)
            raise errors.UsageError(problem)
        return spec

    def run(
        self,
        access: Access,
        name: str,
        args: tuple[str, ...] | list[str],
        on_output: Callable[[str], None] | None = None,
        interval: float = OUTPUT_INTERVAL,
    ) -> CommandResult:
        """Run an allow-listed command; `on_output(tail so far)` every `interval` seconds.

        The attempt is audited before anything runs (no record, no run) and completed with
        the outcome afterwards, whatever happens in between."""
        args = tuple(args)
        spec = self.check(access, name, args)
        a = access.actor
        (attempt,) = self.audit.begin(a.id, a.surface, "run", [_target(name, args)], a.channel)
        try:
            outcome = self._execute(spec, args, on_output, interval)
        except ProgramMissing as exc:
            self.audit.finish(attempt, "failed", 0.0, str(exc))
            raise ProgramMissing(f"`{name}` cannot run: {exc}") from None
        except BaseException:  # a bug: the row still gets an outcome, the traceback a log
            self.audit.finish(attempt, "failed", 0.0, "supbot failed while running it")
            raise
        ok = outcome.ok
        error = outcome.error or ("" if ok else f"exit {outcome.exit_code}")
        self.audit.finish(attempt, "ok" if ok else "failed", outcome.duration, error)
        return CommandResult(
            name,
            args,
            outcome.exit_code,
            outcome.duration,
            outcome.output,
            outcome.error,
            access.actor.id,
        )

    def _execute(
        self,
        spec: CommandSpec,
        args: tuple[str, ...],
        on_output: Callable[[str], None] | None,
        interval: float,
    ) -> Outcome:
        env = environment(spec.env, self._secrets)
        path = self.logs_dir / f"cmd-{uuid.uuid4().hex}.log"
        try:
            proc = start((*spec.command, *args), spec.cwd, env, path)
            return supervise(
                proc,
                path,
                self.redactor,
                spec.timeout,
                on_output,
                interval,
                max_output=self.max_output,
            )
        finally:
            path.unlink(missing_ok=True)

    def _unknown(self, access: Access, name: str) -> str:
        usable = [
            c.name
            for c in self.list_commands(access)
            if access.allows_named("run", "commands", c.name)
        ]
        close = difflib.get_close_matches(name, usable, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        if not usable:
            return f"No command {quote(name)} here, and you may not run any commands here."
        listing = ", ".join(f"`{u}`" for u in usable)
        return f"No command {quote(name)} here.{hint} Commands you may run here: {listing}."

    def _audit(
        self,
        access: Access,
        name: str,
        args: tuple[str, ...] | list[str],
        outcome: str,
        error: str,
        duration: float = 0.0,
    ) -> None:
        a = access.actor
        target = _target(name, args)
        self.audit.record(a.id, a.surface, "run", target, outcome, a.channel, duration, error)


def _target(name: str, args: tuple[str, ...] | list[str]) -> str:
    return " ".join([name, *args])[:500]


def check_args(spec: CommandSpec, args: tuple[str, ...]) -> str:
    """'' when the arguments are acceptable, else one sentence saying why not."""
    if not args:
        return ""
    if spec.args is None:
        return f"`{spec.name}` takes no arguments."
    for arg in args:
        if FORBIDDEN.search(arg):
            return (
                f"Argument {quote(arg, 40)} was refused: `;`, `|`, `$(`, backticks and "
                "newlines are never accepted."
            )
        hidden = hidden_char(arg)
        if hidden is not None:
            return (
                f"Argument {quote(arg, 40)} was refused: it contains {char_name(hidden)}, a "
                "control, invisible or non-text character. Type arguments as plain text."
            )
        if not re.fullmatch(spec.args, arg):
            return f"Argument {quote(arg, 40)} was refused: `{spec.name}` accepts `{spec.args}`."
    return ""


def parse_listing(data: Any) -> list[tuple[str, str]]:
    """(name, description) from Symfony/Laravel `list --format=json`, or a plain list."""
    items = data.get("commands", []) if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise ValueError("the listing is not a list of commands")
    out = []
    for item in items:
        if isinstance(item, str):
            out.append((item, ""))
        elif (
            isinstance(item, dict) and isinstance(item.get("name"), str) and not item.get("hidden")
        ):
            out.append((item["name"], str(item.get("description") or "")))
    return out
