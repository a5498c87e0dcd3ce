"""A tiny unicode sparkline: `▁▂▃▅▇█`, one character per bucket of values."""

from __future__ import annotations

from collections.abc import Sequence

BARS = "▁▂▃▄▅▆▇█"


def sparkline(values: Sequence[float], width: int = 30) -> str:
    """`values` (oldest first) in at most `width` characters: each is the mean of a bucket,
    scaled from the lowest to the highest bucket ("" for no values; flat when all equal)."""
    if not values:
        return ""
    size = max(1, -(-len(values) // width))  # ceil: at most `width` buckets
    means = [sum(chunk) / len(chunk) for chunk in _chunks(values, size)]
    low, high = min(means), max(means)
    if high - low <= 1e-9:
        return BARS[0] * len(means)
    top = len(BARS) - 1
    return "".join(BARS[round((m - low) / (high - low) * top)] for m in means)


def _chunks(values: Sequence[float], size: int) -> list[Sequence[float]]:
    return [values[i : i + size] for i in range(0, len(values), size)]
