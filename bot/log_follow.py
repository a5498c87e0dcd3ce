"""Following a log in a terminal (`supbot tail -f`, the console's `tail --follow`).

New lines are read once a second (supervisord has no push), through the follow redactor that
continues where the shown tail ended; Ctrl-C stops, and a held partial line is still shown.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.auth import Access
from bot.domain import LogTail
from bot.processes import ProcessService

POLL_EVERY = 1.0


def follow_log(
    processes: ProcessService,
    access: Access,
    tail: LogTail,
    emit: Callable[[str], None],
    seconds: float | None = None,
) -> bool:
    """`emit` each new line after `tail` until Ctrl-C or `seconds`; True when Ctrl-C stopped it."""
    process = processes.find_one(access, f"{tail.process}@{tail.node}", "tail")
    offset, follower = tail.offset, processes.follower(process, tail)
    deadline = None if seconds is None else time.monotonic() + seconds
    interrupted = False
    try:
        while deadline is None or time.monotonic() < deadline:
            time.sleep(POLL_EVERY)
            lines, offset = processes.follow(process, offset, tail.stream, follower)
            for line in lines:
                emit(line)
    except KeyboardInterrupt:
        interrupted = True
    for line in follower.finish():  # a held partial line, redacted
        emit(line)
    return interrupted
