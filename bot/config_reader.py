"""The mechanism behind bot/config.py: read one TOML table, collecting every problem with its
key path, and return usable defaults so reading can go on and report everything at once."""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.durations import DurationError, parse_duration


class ConfigError(Exception):
    """The configuration is unusable; `problems` lists every problem with its key path."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))

    def report(self) -> str:
        lines = [f"configuration error in {self.source}:"]
        lines += [f"  - {p}" for p in self.problems]
        return "\n".join(lines)


class Reader:
    """Collects problems while reading one table; every getter returns a usable default."""

    def __init__(self, table: Mapping[str, Any], path: str, problems: list[str], known: set[str]):
        self.table, self.path, self.problems = table, path, problems
        for key in table:
            if key not in known:
                hint = _closest(key, known)
                self.problem(key, "unknown key" + (f" (did you mean '{hint}'?)" if hint else ""))

    def key(self, name: str) -> str:
        return f"{self.path}.{name}" if self.path else name

    def problem(self, name: str, message: str) -> None:
        self.problems.append(f"{self.key(name)}: {message}")

    def get(self, name: str, kind: type | tuple[type, ...], default: Any, required: bool = False):
        if name not in self.table:
            if required:
                self.problem(name, "is required")
            return default
        value = self.table[name]
        if not isinstance(value, kind) or (kind is not bool and isinstance(value, bool)):
            self.problem(name, f"expected {_kind_name(kind)}, got {type(value).__name__}")
            return default
        return value

    def text(self, name: str, default: str | None = None, required: bool = False) -> Any:
        value = self.get(name, str, default, required)
        if required and isinstance(value, str) and not value.strip():
            self.problem(name, "must not be empty")
        return value

    def strings(self, name: str, default: tuple[str, ...] = (), required: bool = False):
        value = self.get(name, list, None, required)
        if value is None:
            return default
        if not all(isinstance(v, str) for v in value):
            self.problem(name, "expected a list of strings")
            return default
        return tuple(value)

    def duration(self, name: str, default: float | None) -> Any:
        if name not in self.table:
            return default
        try:
            return parse_duration(self.table[name])
        except DurationError as exc:
            self.problem(name, str(exc))
            return default

    def choice(self, name: str, options: tuple[str, ...], default: str) -> str:
        value = self.text(name, default)
        if value not in options:
            self.problem(name, f"must be one of {', '.join(options)}, got {value!r}")
            return default
        return str(value)

    def table_list(self, name: str) -> list[tuple[str, Mapping[str, Any]]]:
        value = self.table.get(name, [])
        if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
            self.problem(name, f"expected [[{name}]] tables")
            return []
        return [(f"{self.key(name)}[{i}]", v) for i, v in enumerate(value)]

    def sub(self, name: str) -> Mapping[str, Any]:
        value = self.table.get(name, {})
        if not isinstance(value, dict):
            self.problem(name, f"expected a [{name}] table")
            return {}
        return value


def _kind_name(kind: type | tuple[type, ...]) -> str:
    kinds = kind if isinstance(kind, tuple) else (kind,)
    names = {str: "a string", list: "a list", bool: "true or false", int: "a number"}
    return " or ".join(names.get(k, k.__name__) for k in kinds)


def _closest(word: str, options: set[str]) -> str | None:
    found = difflib.get_close_matches(word, sorted(options), n=1, cutoff=0.6)
    return found[0] if found else None


def env_string(env: Mapping[str, str], r: Reader, key: str, required: bool) -> str | None:
    """Read the NAME of an env var from `key` and return its value."""
    var = r.text(key, None, required=required)
    if not var:
        return None
    if var not in env or not env[var]:
        r.problem(key, f"environment variable {var} is not set")
        return None
    return env[var]


def check_timezone(r: Reader, key: str, value: str) -> None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        r.problem(key, f"unknown timezone {value!r} (use an IANA name like 'Europe/Paris')")


def string_map(r: Reader, key: str) -> dict[str, str]:
    value = r.get(key, dict, {})
    if not all(isinstance(v, str) for v in value.values()):
        r.problem(key, "expected a table of strings")
        return {}
    return dict(value)


def argv(r: Reader, key: str) -> tuple[str, ...]:
    argv = r.strings(key, required=True)
    if key in r.table and not argv:
        r.problem(key, "must name a program: a list like ['php', 'artisan', 'cache:clear']")
    return argv


def check_unique(problems: list[str], key: str, names: list[str], field: str = "name") -> None:
    """`key[i].field: duplicate 'x' (also key[j].field)`: the second one would be ignored."""
    for i, name in enumerate(names):
        if name and name in names[:i]:
            first = names.index(name)
            problems.append(f"{key}[{i}].{field}: duplicate {name!r} (also {key}[{first}].{field})")


def check_distinct_secrets(problems: list[str], key: str, field: str, values: list[str]) -> None:
    """Two entries holding the same secret: name both key paths, never the value."""
    for i, value in enumerate(values):
        if value and value in values[:i]:
            first = values.index(value)
            problems.append(
                f"{key}[{i}].{field}: holds the same token as {key}[{first}].{field}; "
                "every token must be different (a request would get the first one's rights)"
            )
