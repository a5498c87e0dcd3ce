"""The output spool of a run: the file its command writes to, capped on disk by dropping the
oldest output.

The command writes to the file itself (no pipe through supbot), so a run outlives the process
that started it. To keep a chatty command from filling the state volume, the process that
supervises the run punches a hole over everything before the last `limit` bytes (Linux
`fallocate(PUNCH_HOLE)`: the blocks are freed, the command's file offset and the file's
apparent size stay as they are, nothing races with its writes). The hole is the record of what
was dropped: its length is the offset of the file's first data (`SEEK_DATA`), so whoever reads
the spool later — this process, or the one closing an orphaned run — can say how much is gone.
"""

from __future__ import annotations

import ctypes
import errno
import os
from functools import lru_cache
from pathlib import Path

FALLOC_FL_KEEP_SIZE = 0x01
FALLOC_FL_PUNCH_HOLE = 0x02
MIN_SLACK = 64 * 1024


class SpoolFull(Exception):
    """The spool reached its limit and this filesystem cannot drop old output."""


@lru_cache(maxsize=1)
def _fallocate() -> ctypes._CFuncPtr | None:  # type: ignore[name-defined]
    """libc's fallocate (None where there is none, e.g. macOS); looked up on first use."""
    try:
        func = ctypes.CDLL(None, use_errno=True).fallocate64
    except (OSError, AttributeError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int64, ctypes.c_int64]
    func.restype = ctypes.c_int
    return func


def punch(path: Path, length: int) -> None:
    """Free the first `length` bytes of `path` (block-aligned) without moving anything."""
    func = _fallocate()
    if func is None:
        raise SpoolFull("this system has no fallocate()")
    fd = os.open(path, os.O_WRONLY)
    try:
        if func(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, length) != 0:
            code = ctypes.get_errno()
            raise SpoolFull(f"this filesystem cannot drop old output ({errno.errorcode.get(code)})")
    finally:
        os.close(fd)


def dropped(fd: int, size: int) -> int:
    """Bytes dropped from the front of an open spool: where its data starts."""
    try:
        return os.lseek(fd, 0, os.SEEK_DATA)
    except OSError as exc:
        # ENXIO: no data at all (everything so far was dropped); anything else: no holes known.
        return size if exc.errno == errno.ENXIO else 0


class Spool:
    """Keeps the file at about `limit` bytes on disk (at most a quarter more between trims)."""

    def __init__(self, path: Path, limit: int) -> None:
        self.path, self.limit = path, limit
        self.slack = max(limit // 4, MIN_SLACK)
        self.dropped = 0

    def trim(self) -> None:
        """Drop the oldest output once the spool is over its limit; SpoolFull if it cannot."""
        try:
            size = self.path.stat().st_size
        except OSError:
            return
        if size - self.dropped <= self.limit + self.slack:
            return
        block = max(os.statvfs(self.path).f_bsize, 512)
        cut = (size - self.limit) // block * block
        if cut > self.dropped:
            punch(self.path, cut)
            self.dropped = cut
