"""Durations: seconds as a number or strings with units, everywhere."""

from __future__ import annotations

import pytest

from bot.durations import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        (30, 30.0),
        (1.5, 1.5),
        ("45", 45.0),
        ("30s", 30.0),
        ("5m", 300.0),
        ("1h", 3600.0),
        ("1h30m", 5400.0),
        ("90d", 90 * 86400.0),
        ("2w", 14 * 86400.0),
        ("250ms", 0.25),
        (" 5 M ", 300.0),
        ("0", 0.0),
    ],
)
def test_durations_with_and_without_units_are_seconds(value: object, seconds: float) -> None:
    assert parse_duration(value) == pytest.approx(seconds)


@pytest.mark.parametrize("value", ["", "abc", "5x", "1h-5m", "-5s", "m5", "5 minutes", None, True])
def test_not_a_duration_is_refused_with_examples(value: object) -> None:
    with pytest.raises(DurationError) as exc:
        parse_duration(value)
    assert "30s" in str(exc.value) or "5m" in str(exc.value)


def test_negative_number_is_refused() -> None:
    with pytest.raises(DurationError, match="negative"):
        parse_duration(-1)


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (0, "0s"),
        (45, "45s"),
        (192, "3m 12s"),
        (7500, "2h 5m"),
        (4 * 86400 + 3 * 3600 + 5, "4d 3h"),
        (-3, "0s"),
    ],
)
def test_format_duration_is_short_and_human(seconds: float | None, text: str) -> None:
    assert format_duration(seconds) == text
