"""A small shared memo: concurrent misses on one key compute once, the others wait for it.

Many people asking the same thing at once (an incident: 20 `/sup status`) share one fleet read;
with this they also share what is computed from it, instead of queueing on the interpreter lock
to compute the same answer 20 times.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from concurrent.futures import Future
from typing import Generic, TypeVar

V = TypeVar("V")


class Same:
    """A key part that is equal only to the very same object (hashing a 500-process tuple on
    every lookup would cost more than the lookup saves). Holding it keeps its id unique."""

    __slots__ = ("obj",)

    def __init__(self, obj: object) -> None:
        self.obj = obj

    def __hash__(self) -> int:
        return id(self.obj)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.obj is self.obj


class Memo(Generic[V]):
    """The last `size` results by key; values must be treated as immutable by every caller."""

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._done: OrderedDict[Hashable, V] = OrderedDict()
        self._inflight: dict[Hashable, Future[V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, compute: Callable[[], V]) -> V:
        with self._lock:
            if key in self._done:
                self._done.move_to_end(key)
                return self._done[key]
            waiting = self._inflight.get(key)
            if waiting is None:
                future: Future[V] = Future()
                self._inflight[key] = future
        if waiting is not None:
            return waiting.result()
        try:
            value = compute()
        except BaseException as exc:
            with self._lock:
                del self._inflight[key]
            future.set_exception(exc)  # the waiters get the same expected error (or bug)
            raise
        with self._lock:
            self._done[key] = value
            while len(self._done) > self.size:
                self._done.popitem(last=False)
            del self._inflight[key]
        future.set_result(value)
        return value
