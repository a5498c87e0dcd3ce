"""Where `tail --grep` reads a log from: supervisord's XML-RPC windows, or — when the node runs
on this host — the log file itself, which is several times faster than moving 8 MiB through
XML-RPC (bench/grep.py).

Both readers answer `window(start, end) -> (text, start, end)` with the same text for the same
bytes: an edge that would split a UTF-8 character is moved in by up to 3 bytes, as supervisord
needs. The file is used only when it is plainly the file supervisord writes: readable, and at
least as long as supervisord says the log is (a shorter or missing file was rotated, or lives
in another mount namespace); otherwise the search goes through XML-RPC as for a remote node.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Protocol

from bot.supervisor.client import NodeClient


class LogWindows(Protocol):
    def window(self, start: int, end: int) -> tuple[str, int, int]:
        """The text of bytes [start, end), edges moved in to whole UTF-8 characters."""
        ...


class RpcLog:
    """A log read through `readProcess{Stdout,Stderr}Log` (any node)."""

    def __init__(self, client: NodeClient, full_name: str, stream: str) -> None:
        self.client, self.full_name, self.stream = client, full_name, stream

    def window(self, start: int, end: int) -> tuple[str, int, int]:
        return self.client.read_log_window(self.full_name, start, end, self.stream)


class FileLog:
    """A log read from its file on this host, through one open descriptor (a rotation during
    the search leaves the bytes being read where they were)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd

    def window(self, start: int, end: int) -> tuple[str, int, int]:
        data = os.pread(self.fd, end - start, start)
        end = start + len(data)
        head = _continuations(data[:3])
        tail = _incomplete_tail(data[head:])
        text = data[head : len(data) - tail].decode("utf-8", errors="replace")
        return text, start + head, end - tail


def _continuations(data: bytes) -> int:
    """How many leading bytes continue a character that began before the window."""
    count = 0
    for b in data:
        if b & 0xC0 != 0x80:
            break
        count += 1
    return count


def _incomplete_tail(data: bytes) -> int:
    """How many trailing bytes begin a character that the window cuts off."""
    for back in range(1, min(4, len(data) + 1)):
        b = data[-back]
        if b & 0xC0 == 0x80:
            continue  # a continuation byte: look further back for its lead byte
        if b < 0x80:
            return 0
        needed = 2 if b & 0xE0 == 0xC0 else 3 if b & 0xF0 == 0xE0 else 4
        return back if needed > back else 0
    return 0


@contextlib.contextmanager
def log_windows(client: NodeClient, full_name: str, stream: str, size: int) -> Iterator[LogWindows]:
    """The fastest reader of a log whose size supervisord gave as `size`."""
    fd = _open_local(client, full_name, stream, size)
    if fd is None:
        yield RpcLog(client, full_name, stream)
        return
    try:
        yield FileLog(fd)
    finally:
        os.close(fd)


def _open_local(client: NodeClient, full_name: str, stream: str, size: int) -> int | None:
    if not client.local:
        return None
    row = client.call("getProcessInfo", full_name, target=full_name)
    path = row.get("stdout_logfile" if stream == "stdout" else "stderr_logfile") or ""
    if not os.path.isabs(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # not readable by supbot's user, gone, or in another namespace
        return None
    if os.fstat(fd).st_size < size:  # not the file supervisord measured: rotated or another
        os.close(fd)
        return None
    return fd
