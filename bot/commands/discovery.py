"""`[[command_sources]]`: commands discovered by running a listing command.

E.g. the entries of `php artisan list --format=json` matching `allow` globs. Discovered entries
run as the source command's words before `list` plus the entry name (`php artisan
cache:clear`), and take no arguments. The listing is kept for `DISCOVERY_TTL` seconds; when
discovery fails the configured list is all there is, and the failure is shown with the list.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Sequence
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from bot import errors
from bot.commands.spec import CommandSpec
from bot.config import CommandSource
from bot.redact import Redactor
from bot.runs.execute import environment, start, supervise

log = logging.getLogger("supbot.commands")

DISCOVERY_TTL = 60.0


class Discovery:
    """The discovered commands of every source, cached for `DISCOVERY_TTL` seconds."""

    def __init__(
        self,
        sources: Sequence[CommandSource],
        redactor: Redactor,
        secrets: frozenset[str],
        spool_dir: Path,
        max_output: int,
    ) -> None:
        self.sources, self.redactor, self.secrets = sources, redactor, secrets
        self.spool_dir, self.max_output = spool_dir, max_output
        self._found: tuple[float, list[CommandSpec]] = (0.0, [])
        self._lock = threading.Lock()
        self.errors: list[str] = []

    def commands(self) -> list[CommandSpec]:
        if not self.sources:
            return []
        with self._lock:
            at, found = self._found
            if time.monotonic() - at < DISCOVERY_TTL and at:
                return found
            found, problems = [], []
            for source in self.sources:
                try:
                    found += self._discover_one(source)
                except (errors.SupbotError, OSError, ValueError) as exc:
                    problems.append(f"{source.name}: {exc}")
                    log.warning("command discovery %s failed: %s", source.name, exc)
            self._found, self.errors = (time.monotonic(), found), problems
            return found

    def _discover_one(self, source: CommandSource) -> list[CommandSpec]:
        env = environment({}, self.secrets)
        path = self.spool_dir / f"discover-{uuid.uuid4().hex}.json"
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
