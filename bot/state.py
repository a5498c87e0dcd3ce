"""The shared state every supbot process opens: SQLite in `[storage] dir` (the embedded
default) or PostgreSQL (`[storage] url`), through SQLAlchemy Core (bot/storage/runtime.py).

`connect()` is one transaction for the block; `transaction()` a write transaction serialized
against every other writer (BEGIN IMMEDIATE on SQLite, an advisory lock on PostgreSQL), so a
read-then-write inside it is atomic on both engines. A block inside a block of the same thread
joins the outer one. No I/O other than the database inside a block: it holds locks.

Nothing is imported from SQLAlchemy until the first use, so commands that never touch the state
(`supbot status`) do not pay for it. The schema is checked at the first use: the newest
version, created or upgraded when `[storage] auto_upgrade` allows (SQLite by default), else
`StateUnavailable` naming the command to run.

The file can go away or go bad under a running process. Every checkout of a SQLite connection
checks that the path still names the file it opened (one stat): a removed database is created
again with every table, said once in the log, instead of writing on into the unlinked file. A
file that is not a database, a full disk, a read-only file or an unreachable server is
`StateUnavailable` with one line naming where; `health()` says the same for /healthz.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.config import StorageSettings
from bot.errors import StateUnavailable
from bot.state_problems import classify
from bot.storage.listen import Local, Waiter

if TYPE_CHECKING:
    from _typeshed import DataclassInstance
    from sqlalchemy import Connection

    from bot.storage.runtime import Backend

log = logging.getLogger("supbot.state")
Record = TypeVar("Record", bound="DataclassInstance")

DB_NAME = "supbot.db"
BACKOFF_MAX = 15.0  # seconds between attempts on an unreachable server, at most
WROTE = "supbot_wrote"  # Connection.info: the block changed rows (bot/storage/runtime.py)
WRITE_PROBLEMS = ("full", "readonly")  # conditions only a write that succeeds clears


@dataclass(frozen=True)
class Where:
    """Where the state is, as a Store was told."""

    directory: Path
    url: str | None = None  # PostgreSQL, password included: never shown
    shown: str = ""  # the URL with its password masked ("" for SQLite: the path is shown)
    auto_upgrade: bool = True


class Store:
    """The shared state database, opened lazily; `connect()`/`transaction()` give blocks."""

    def __init__(
        self,
        where: Path | StorageSettings,
    ) -> None:
        if isinstance(where, StorageSettings):
            self.where = _where(where)
        else:
            self.where = Where(Path(where))
        self.directory = self.where.directory
        self.path = self.directory / DB_NAME
        self.postgresql = self.where.url is not None
        self._local = threading.local()
        self._lock = threading.Lock()
        self._backend: Backend | None = None
        self._backend_pid = 0
        self._schema_ok = False
        self._problem: tuple[str, str] | None = None  # (kind, line) of the last failed use
        self._ready = False
        self._waiters = Local()
        self._note_lock = threading.Lock()
        self._retry_at = 0.0  # monotonic: an unreachable server is not asked again before
        self._backoff = 0.0
        if not self.postgresql:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                self._raise_if_condition(exc)
                raise
        self._ready = True

    @property
    def shown(self) -> str:
        """Where the state is, fit to show (the URL's password masked)."""
        return self.where.shown or str(self.path)

    # --- blocks --------------------------------------------------------------------------

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """One transaction for the block (joins the thread's open block, if any)."""
        with self._block(write=False) as conn:
            yield conn

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction, serialized against every other: claims are atomic."""
        with self._block(write=True) as conn:
            yield conn

    @contextmanager
    def _block(self, write: bool) -> Iterator[Connection]:
        outer: Connection | None = getattr(self._local, "conn", None)
        if outer is not None:
            yield outer
            return
        with self._guard():
            backend = self._ready_backend()
            self._local.topics = set()
            with backend.block(write) as conn:
                conn.info.pop(WROTE, None)
                self._local.conn = conn
                try:
                    yield conn
                finally:
                    self._local.conn = None
                wrote = bool(conn.info.pop(WROTE, False))
            self._succeeded(wrote)
            if self._local.topics:
                self._waiters.wake(self._local.topics)

    def notify(self, db: Connection, topic: str) -> None:
        """Wake the waiters of `topic` when this block commits (every host on PostgreSQL,
        this process on SQLite)."""
        self._local.topics.add(topic)
        if self.postgresql:
            from bot.storage.notify import pg_notify

            pg_notify(db, topic)

    def waiter(self, topic: str) -> Waiter:
        """Something to wait on until `topic` is notified (`wait(timeout)`, `stop()`)."""
        url = None
        if self.where.url is not None:
            from bot.storage.urls import libpq

            url = libpq(self.where.url)
        return Waiter(topic, self._waiters, url, self.shown)

    def now(self, conn: Connection) -> float:
        """Epoch seconds by the database's clock: what leases and expiries between hosts use."""
        return self._ready_backend().now(conn)

    def ensure(self, _schema: object = None) -> None:
        """The schema is the newest version (created/upgraded as configured), else
        StateUnavailable. Kept for callers from before migrations: tables are not per feature."""
        with self._guard():
            self._ready_backend()

    # --- backend and schema ----------------------------------------------------------------

    def _ready_backend(self) -> Backend:
        backend = self._backend
        if backend is None or self._backend_pid != os.getpid():
            with self._lock:
                if self._backend is None or self._backend_pid != os.getpid():
                    from bot.storage.runtime import Backend as Made

                    self._backend = Made(self.where, self._recreated)
                    self._backend_pid = os.getpid()
                    self._schema_ok = False
                backend = self._backend
        assert backend is not None
        if not self._schema_ok:
            with self._lock:
                if not self._schema_ok:
                    from bot.storage.schema_check import bring_up_to_date

                    bring_up_to_date(backend, self.where)
                    self._schema_ok = True
        return backend

    def _recreated(self, missing: bool) -> None:
        what = "was removed" if missing else "was replaced"
        log.warning(
            "state database %s %s while supbot was running: using a new one from now on "
            "(history, audit and pending alerts recorded before are gone)",
            self.path,
            what,
        )

    # --- health --------------------------------------------------------------------------

    @contextmanager
    def _guard(self) -> Iterator[None]:
        """A condition of the database (full, not a database, read-only, unreachable) →
        StateUnavailable; anything else (a bug) passes unchanged."""
        try:
            yield
        except StateUnavailable as exc:
            self._note(("schema", str(exc)))
            raise
        except Exception as exc:  # noqa: BLE001 — classified below, else re-raised as is
            self._raise_if_condition(exc)
            raise

    def _raise_if_condition(self, exc: BaseException) -> None:
        """StateUnavailable (logged once when it starts) for a condition of the database."""
        found = classify(self.path if not self.postgresql else self.shown, exc)
        if found is None:
            return
        self._note(found)
        raise StateUnavailable(found[1]) from exc

    def _note(self, found: tuple[str, str]) -> None:
        with self._note_lock:  # threads failing at once: one line, not one each
            changed = self._problem is None or self._problem[0] != found[0]
            self._problem = found
        if self._ready and changed:
            log.error("%s", found[1])  # at start-up the error itself is the one line
        if found[0] == "unreachable":
            # Back off: every caller fails fast instead of each waiting for a connect timeout.
            self._backoff = min(max(self._backoff * 2, 0.5), BACKOFF_MAX)
            self._retry_at = time.monotonic() + self._backoff

    def _not_before_retry(self) -> None:
        if self._problem is not None and time.monotonic() < self._retry_at:
            raise StateUnavailable(self._problem[1])

    def _succeeded(self, wrote: bool) -> None:
        if self._problem is None:
            return
        if self._problem[0] in WRITE_PROBLEMS:
            if not wrote:  # a read works on a full disk: only a write says it is over
                return
            log.info("state database %s is writable again", self.shown)
        else:
            log.info("state database %s answers again", self.shown)
        self._problem = None
        self._backoff = 0.0

    @property
    def known_problem(self) -> str | None:
        """The condition the last use of the database met (None: it worked); no query."""
        problem = self._problem
        return problem[0] if problem else None

    def health(self) -> str | None:
        """None when the state database answers and the last use worked; else why not.
        Read through a new connection: a long-lived one may answer from its page cache."""
        try:
            with self.connect():  # recreates a removed database
                pass
            with self._guard():
                self._ready_backend().probe()
        except StateUnavailable as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 — /healthz reports, never raises
            return f"state database {self.shown}: {exc}"
        return self._problem[1] if self._problem else None

    # --- small shared records ------------------------------------------------------------

    def heartbeat(self, name: str, detail: str = "", lease: float = 0.0) -> None:
        """This process is alive as `name`; with `lease`, for that many seconds of database
        time (how another host judges it)."""
        from bot.storage import heartbeats

        with self.connect() as db:
            heartbeats.beat(db, name, detail, lease, self.now(db))

    def live(self, prefix: str) -> int:
        """How many `prefix…` roles (`serve:`: replicas) hold a lease now."""
        from bot.storage import heartbeats

        with self.connect() as db:
            return heartbeats.live(db, prefix, self.now(db))

    def last_heartbeat(self, name: str) -> Mapping[str, Any] | None:
        from bot.storage import heartbeats

        with self.connect() as db:
            return heartbeats.last(db, name)

    def close(self) -> None:
        backend, self._backend = self._backend, None
        if backend is not None and self._backend_pid == os.getpid():
            backend.dispose()


def _where(storage: StorageSettings) -> Where:
    if storage.url is None:
        return Where(storage.dir, auto_upgrade=storage.auto_upgrade)
    from bot.storage.urls import display_url, with_password

    return Where(
        storage.dir,
        url=with_password(storage.url, storage.password),
        shown=display_url(storage.url),
        auto_upgrade=storage.auto_upgrade,
    )


def from_row(kind: type[Record], row: Mapping[Any, Any], **decoded: Any) -> Record:
    """A `kind` from the columns named like its fields; `decoded` gives the fields whose
    column needs turning into the field's value (JSON, NULL → default)."""
    plain = {f.name: row[f.name] for f in fields(kind) if f.init and f.name not in decoded}
    return kind(**plain, **decoded)
