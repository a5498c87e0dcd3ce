"""The shared memo: concurrent askers of one key compute once; errors are not remembered."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bot import errors
from bot.memo import Memo, Same


def test_twenty_concurrent_askers_of_one_key_compute_once() -> None:
    memo: Memo[int] = Memo()
    started, release = threading.Event(), threading.Event()
    computed: list[int] = []

    def compute() -> int:
        computed.append(1)
        started.set()
        release.wait(10)
        return 42

    with ThreadPoolExecutor(20) as pool:
        first = pool.submit(memo.get, "k", compute)
        assert started.wait(10)
        others = [pool.submit(memo.get, "k", compute) for _ in range(19)]
        release.set()
        answers = [first.result(10)] + [f.result(10) for f in others]
    assert answers == [42] * 20 and len(computed) == 1


def test_an_error_reaches_the_asker_and_is_computed_again_next_time() -> None:
    memo: Memo[str] = Memo()

    def fail() -> str:
        raise errors.NoSuchProcess("web", [])

    with pytest.raises(errors.NoSuchProcess):
        memo.get("k", fail)
    assert memo.get("k", lambda: "ok") == "ok"


def test_oldest_entries_are_dropped_past_the_size() -> None:
    memo: Memo[int] = Memo(size=2)
    for key in (1, 2, 3):
        memo.get(key, lambda key=key: key)
    assert memo.get(1, lambda: -1) == -1 and memo.get(3, lambda: -3) == 3


def test_same_is_equal_only_to_the_very_same_object() -> None:
    a, b = (1, 2), tuple([1, 2])
    assert Same(a) == Same(a) and hash(Same(a)) == hash(Same(a))
    assert Same(a) != Same(b)
