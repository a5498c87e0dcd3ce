"""What went wrong with the state database, in one line a person can act on.

SQLite reports a full disk, a read-only file, a file that is not a database and a lock held
too long with distinct result codes; those are conditions of the machine, not bugs, and become
`StateUnavailable`. Any other SQLite error (no such column, a syntax error) is a bug and is
left to the top-level handler.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

# Primary SQLite result codes (the low byte of `sqlite_errorcode`).
_PERM, _BUSY, _LOCKED, _READONLY, _IOERR, _CORRUPT = 3, 5, 6, 8, 10, 11
_FULL, _CANTOPEN, _NOTADB = 13, 14, 26

_NOT_A_DATABASE = (
    "is not a database ({detail}): move it aside (or restore a backup) and restart; "
    "supbot creates a new one when none is there"
)
_KINDS: dict[int, tuple[str, str]] = {
    _FULL: (
        "full",
        "is full ({detail}): free space on its volume; nothing new is recorded until then",
    ),
    _CORRUPT: ("corrupt", _NOT_A_DATABASE),
    _NOTADB: ("corrupt", _NOT_A_DATABASE),
    _READONLY: ("readonly", "is not writable ({detail}): check its permissions and its volume"),
    _PERM: ("readonly", "is not writable ({detail}): check its permissions and its volume"),
    _CANTOPEN: ("unreadable", "cannot be opened ({detail}): check the [storage] dir"),
    _IOERR: ("unreadable", "cannot be read or written ({detail}): check its volume"),
    _BUSY: ("busy", "is locked by another process for too long ({detail})"),
    _LOCKED: ("busy", "is locked by another process for too long ({detail})"),
}
_OS_KINDS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: _KINDS[_FULL],
    errno.EDQUOT: _KINDS[_FULL],
    errno.EROFS: _KINDS[_READONLY],
    errno.EACCES: _KINDS[_READONLY],
    errno.EPERM: _KINDS[_READONLY],
}


def classify(path: Path, exc: BaseException) -> tuple[str, str] | None:
    """(kind, one line) for a condition of the state database; None for anything else."""
    if isinstance(exc, sqlite3.Error):
        code = getattr(exc, "sqlite_errorcode", None)
        found = _KINDS.get(code & 0xFF) if isinstance(code, int) else None
        if found is None and "disk is full" in str(exc):  # codes missing on some builds
            found = _KINDS[_FULL]
    elif isinstance(exc, OSError):
        found = _OS_KINDS.get(exc.errno or 0)
    else:
        found = None
    if found is None:
        return None
    kind, template = found
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return kind, f"state database {path} {template.format(detail=detail)}"
