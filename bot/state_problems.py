"""What went wrong with the state database, in one line a person can act on.

SQLite reports a full disk, a read-only file, a file that is not a database and a lock held
too long with distinct result codes; those are conditions of the machine, not bugs, and become
`StateUnavailable`. Any other SQLite error (no such column, a syntax error) is a bug and is
left to the top-level handler. PostgreSQL says the same with SQLSTATE codes, plus the server
being unreachable (refused, gone, shut down), which a fleet must ride out. SQLAlchemy wraps the
driver's error: its `orig` is what is classified. No SQLAlchemy import here (see bot/state.py).
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


_PG_UNREACHABLE = ("unreachable", "is unreachable ({detail}): supbot retries until it answers")
_PG_CLASSES: dict[str, tuple[str, str]] = {
    "08": _PG_UNREACHABLE,  # connection exceptions
    "57": _PG_UNREACHABLE,  # operator intervention: shutdown, terminated
    "53": _KINDS[_FULL],  # insufficient resources: disk full, out of memory, connections
    "28": ("refused", "refused the login ({detail}): check the user and [storage] password_env"),
}
_PG_CODES: dict[str, tuple[str, str]] = {
    "25006": _KINDS[
        _READONLY
    ],  # read-only transaction: a standby, or default_transaction_read_only
    "3D000": (
        "missing",
        "does not exist ({detail}): create it (README, PostgreSQL quick start)",
    ),
}


def classify(path: Path | str, exc: BaseException) -> tuple[str, str] | None:
    """(kind, one line) for a condition of the state database; None for anything else."""
    orig = getattr(exc, "orig", None)
    if isinstance(orig, BaseException):
        exc = orig
    elif (
        type(exc).__name__ in ("TimeoutError", "DisconnectionError")
        and "sqlalchemy" in type(exc).__module__
    ):
        return _line(path, exc, _PG_UNREACHABLE)
    if type(exc).__module__.startswith("psycopg"):
        return _postgresql(path, exc)
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
    return _line(path, exc, found)


def _postgresql(where: Path | str, exc: BaseException) -> tuple[str, str] | None:
    code = getattr(exc, "sqlstate", None)
    if not code:  # no answer from a server at all: refused, timed out, name unknown
        name = type(exc).__name__
        return (
            _line(where, exc, _PG_UNREACHABLE)
            if name in ("OperationalError", "InterfaceError")
            else None
        )
    found = _PG_CODES.get(code) or _PG_CLASSES.get(code[:2])
    return None if found is None else _line(where, exc, found)


def _line(where: Path | str, exc: BaseException, found: tuple[str, str]) -> tuple[str, str]:
    kind, template = found
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    detail = detail.strip().splitlines()[0] if detail.strip() else type(exc).__name__
    return kind, f"state database {where} {template.format(detail=detail)}"
