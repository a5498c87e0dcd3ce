"""The unicode sparkline of `info`'s last hour of memory and CPU."""

from __future__ import annotations

from bot.render.sparkline import sparkline


def test_a_rising_series_goes_from_the_lowest_to_the_highest_bar() -> None:
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"


def test_a_flat_series_is_flat_and_no_values_is_empty() -> None:
    assert sparkline([5.0] * 4) == "▁▁▁▁"
    assert sparkline([]) == ""


def test_an_hour_of_samples_fits_the_width_as_bucket_means() -> None:
    line = sparkline([0.0] * 180 + [100.0] * 180, width=30)
    assert line == "▁" * 15 + "█" * 15
