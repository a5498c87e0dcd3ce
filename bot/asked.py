"""When the person asked, for the reads made on their behalf.

`status --fresh` must not be answered from a read that ended before the question: but a read
still in flight when it was asked (or begun later) is as fresh. Under load, a question's
handler may start a little after the question arrived (20 at once on 2 cores): judged by the
handler's own start, a read that ended meanwhile would not do and supervisord would be asked
again. `asking(at)` sets the arrival time (HTTP mode: when the request reached supbot) for
the calls made in its block; without it, the question is asked now.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_ASKED: ContextVar[float | None] = ContextVar("supbot_asked_at", default=None)


def asked_at() -> float:
    """When the question being answered was asked (epoch seconds)."""
    at = _ASKED.get()
    return time.time() if at is None else at


@contextmanager
def asking(at: float | None) -> Iterator[None]:
    token = _ASKED.set(at)
    try:
        yield
    finally:
        _ASKED.reset(token)
