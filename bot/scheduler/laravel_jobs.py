"""LaravelJobs: the tasks of every `[[job_sources]]`, their next runs, and running them by hand.

The listing is kept for `LISTING_TTL` seconds. `--json` needs Laravel 12.29+; when the command
asks for it and the listing fails or is not JSON, the command is run again without `--json`
and with `-v` (absolute dates and descriptions) and the text is parsed. Next runs come from
croniter in the source's timezone (its `timezone`, else the one the JSON reports, else the
global one) and are checked against Laravel's own next due date when it printed one.
Runs go through CommandService (audited, redacted, live output), as `/sup run` does.
"""

from __future__ import annotations

import difflib
import logging
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot import errors
from bot.auth import Access, refusal
from bot.commands.service import CommandResult, CommandService
from bot.commands.spec import CommandSpec
from bot.config import Settings
from bot.runs.execute import environment, start, supervise
from bot.scheduler import cron
from bot.scheduler.laravel import LaravelTask, ListingError, command_words, parse_listing
from bot.scheduler.sources_config import JobSource
from bot.usertext import quote

log = logging.getLogger("supbot.scheduler")

LISTING_TTL = 60.0
DUE_TOLERANCE = 1.0  # seconds between croniter's next run and Laravel's next due


@dataclass(frozen=True)
class LaravelView:
    """One Laravel task as `/sup jobs` shows it."""

    source: str
    task: LaravelTask
    timezone: str
    description: str  # cron-descriptor's words
    next_runs: tuple[float, ...]
    agrees: bool | None  # croniter's next run = Laravel's next due (None: nothing to compare)
    also_job: str = ""  # the [[jobs]] entry that runs the same command, if any
    can_run: bool = False


class UnknownLaravel(errors.UsageError):
    """No job source on that node, or no Laravel task by that name (the API answers 404)."""


@dataclass(frozen=True)
class Listing:
    at: float
    tasks: tuple[LaravelTask, ...]


class LaravelJobs:
    def __init__(self, settings: Settings, commands: CommandService) -> None:
        self.settings, self.commands = settings, commands
        self.sources = settings.job_sources
        self._cache: dict[str, Listing] = {}
        self._lock = threading.Lock()
        self.errors: list[str] = []

    # --- listing ----------------------------------------------------------------------------

    def listings(self) -> dict[str, Listing]:
        with self._lock:
            problems = []
            for source in self.sources:
                cached = self._cache.get(source.name)
                if cached and time.time() - cached.at < LISTING_TTL:
                    continue
                try:
                    self._cache[source.name] = Listing(time.time(), tuple(self._list(source)))
                except (errors.SupbotError, OSError, ValueError) as exc:
                    problems.append(f"{source.name}: {exc}")
                    log.warning("job source %s failed: %s", source.name, exc)
            self.errors = problems
            return dict(self._cache)

    def _list(self, source: JobSource) -> list[LaravelTask]:
        ok, output = self._output(source, source.command)
        if ok:
            try:
                return parse_listing(output)
            except ListingError:
                if "--json" not in source.command:
                    raise
        elif "--json" not in source.command:
            raise ValueError(f"`{' '.join(source.command)}` failed: {_last_line(output)}")
        # Before Laravel 12.29 there is no --json: the text of `-v` has dates and descriptions.
        text_argv = (*(w for w in source.command if w != "--json"), "-v")
        ok, output = self._output(source, text_argv)
        if not ok:
            raise ValueError(f"`{' '.join(text_argv)}` failed: {_last_line(output)}")
        return parse_listing(output)

    def _output(self, source: JobSource, argv: tuple[str, ...]) -> tuple[bool, str]:
        cmds = self.commands
        path = cmds.logs_dir / f"schedule-list-{uuid.uuid4().hex}.log"
        try:
            proc = start(argv, source.cwd, environment({}, cmds.secrets), path)
            outcome = supervise(proc, path, cmds.redactor, source.timeout, max_output=1 << 20)
            # the tail is capped at 100 lines: read the whole (redacted) listing instead
            text = path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""
        finally:
            Path(path).unlink(missing_ok=True)
        return outcome.ok, cmds.redactor.redact(text)

    def views(self, access: Access, now: float | None = None) -> list[LaravelView]:
        now = time.time() if now is None else now
        out = []
        for source in self.sources:
            listing = self.listings().get(source.name)
            for task in listing.tasks if listing else ():
                if access.allows_named("jobs", "jobs", task.name):
                    out.append(self.view(source, task, listing.at if listing else now, now, access))
        return out

    def view(
        self, source: JobSource, task: LaravelTask, listed: float, now: float, access: Access
    ) -> LaravelView:
        tz = source.timezone or task.timezone or self.settings.timezone
        agrees = None
        # A due date before the listing is another clock or a canned output: nothing to check.
        if task.next_due is not None and task.next_due >= listed - 60 and not task.repeat_seconds:
            (laravel_next,) = cron.next_runs(task.expression, tz, listed - 1.0, 1) or [0.0]
            agrees = abs(laravel_next - task.next_due) <= DUE_TOLERANCE
        return LaravelView(
            source=source.name,
            task=task,
            timezone=tz,
            description=cron.describe(task.expression),
            next_runs=tuple(cron.next_runs(task.expression, tz, now, 3)),
            agrees=agrees,
            also_job=self._also_job(task),
            can_run=task.testable and access.allows_named("job_run", "jobs", task.name),
        )

    def _also_job(self, task: LaravelTask) -> str:
        words = command_words(task.command)
        return next(
            (j.name for j in self.settings.jobs if command_words(" ".join(j.command)) == words),
            "",
        )

    # --- running ----------------------------------------------------------------------------

    def sources_for(self, node: str) -> list[JobSource]:
        found = [s for s in self.sources if s.serves(node)]
        if not found:
            known = sorted({n for s in self.sources for n in (s.name, *s.nodes)})
            close = difflib.get_close_matches(node, known, n=1)
            hint = f" Did you mean `@{close[0]}`?" if close else ""
            listing = ", ".join(f"`@{k}`" for k in known) or "none ([[job_sources]] is empty)"
            raise UnknownLaravel(f"No job source runs on {quote('@' + node)}.{hint} Try {listing}.")
        return found

    def schedule_run(
        self, access: Access, node: str, on_output: Callable[[str], None] | None, interval: float
    ) -> list[tuple[JobSource, CommandResult]]:
        """`schedule:run` of every source on `node`, one after the other."""
        access.require_role("schedule_run")
        out = []
        for source in self.sources_for(node):
            spec = CommandSpec(
                "schedule:run",
                source.run_argv,
                "",
                None,
                source.run_timeout,
                source.cwd,
                {},
                source.name,
            )
            out.append(
                (
                    source,
                    self.commands.run_checked(
                        access, spec, (), on_output, interval, "schedule_run"
                    ),
                )
            )
        return out

    def find(self, access: Access, name: str) -> tuple[JobSource, LaravelTask] | None:
        """The Laravel task called `name` the asker may see, or None."""
        for source, listing in self._listed():
            for task in listing.tasks:
                if task.name == name and access.allows_named("jobs", "jobs", name):
                    return source, task
        return None

    def _listed(self) -> list[tuple[JobSource, Listing]]:
        listings = self.listings() if self.sources else {}
        return [(s, listings[s.name]) for s in self.sources if s.name in listings]

    def test_run(
        self,
        access: Access,
        source: JobSource,
        task: LaravelTask,
        on_output: Callable[[str], None] | None,
        interval: float,
    ) -> CommandResult:
        """One task now, through Laravel's `schedule:test --name=…` (Laravel 9.x+)."""
        self.check_test(access, task)
        argv = source.test_argv(task.name)
        spec = CommandSpec(
            task.name, argv, "", None, source.run_timeout, source.cwd, {}, source.name
        )
        return self.commands.run_checked(access, spec, (), on_output, interval, "job_run")

    def check_test(self, access: Access, task: LaravelTask) -> None:
        if not task.testable:
            raise errors.UsageError(
                f"{quote(task.name)} is a closure: Laravel can run it by name only when it has "
                "a `->name()`; use `schedule run` instead."
            )
        if not access.allows_named("job_run", "jobs", task.name):
            raise errors.Forbidden(refusal(access.actor, "job_run", task.name))


def _last_line(output: str) -> str:
    lines = [line.strip() for line in output.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else "no output"
