"""Sizes in bytes: a number, or strings such as "512KiB", "1MiB", "2MB" (KiB = 1024 bytes)."""

from __future__ import annotations

import re

from bot.config_reader import Reader

_UNITS = {
    "": 1,
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
}
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]*)")


def parse_size(value: object) -> int:
    """Bytes for a whole number or a string with a unit; ValueError with the forms that work."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    match = _SIZE.fullmatch(value.strip().lower()) if isinstance(value, str) else None
    if match is None or match.group(2) not in _UNITS:
        raise ValueError(
            f"expected a size like '1MiB', '512KiB' or a number of bytes, got {value!r}"
        )
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def read_size(r: Reader, key: str, default: int, minimum: int) -> int:
    """A size setting of at least `minimum` bytes; a problem (and the default) otherwise."""
    if key not in r.table:
        return default
    try:
        size = parse_size(r.table[key])
    except ValueError as exc:
        r.problem(key, str(exc))
        return default
    if size < minimum:
        r.problem(key, f"must be at least {minimum // 1024}KiB, got {size} bytes")
        return default
    return size


def format_size(size: int) -> str:
    """`512 B`, `3.4 KiB`, `8.0 MiB`, `1.2 GiB`: how a size reads in a reply."""
    if size < 1024:
        return f"{size} B"
    for unit in ("KiB", "MiB", "GiB"):
        size_in = size / _UNITS[unit.lower()]
        if size_in < 1024 or unit == "GiB":
            return f"{size_in:.1f} {unit}"
    return f"{size} B"  # not reached
