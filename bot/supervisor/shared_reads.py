"""One `getAllProcessInfo` of a node at a time for every supbot process of a host.

supervisord answers one request at a time, and a 500-process answer costs it ~100 ms: with
`serve --workers N`, N workers reading a node at once would make the last answer wait N times
that. Fleet lets the threads of one process share a read in flight; this lets the processes of
a host share it. A process reading a node holds an flock on `<dir>/<node>.lock` while it reads
and leaves the answer in `<dir>/<node>.json`. A process that finds the lock held waits for it
and takes that answer if it was completed after it asked — the read was in flight when it asked,
as fresh as joining one in its own process — else reads for itself. Without a usable directory
each process reads for itself.
"""

from __future__ import annotations

import fcntl
import json
import logging
import operator
import os
import time
from collections.abc import Callable
from dataclasses import fields
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from bot.domain import NodeStatus, ProcessInfo

log = logging.getLogger("supbot.supervisor")

# A process is written as the list of its fields' values: dataclasses.asdict() of 500 processes
# costs ~6 ms, this ~0.5 ms, and the reader waits for it.
_FIELDS = tuple(f.name for f in fields(ProcessInfo))
_values = operator.attrgetter(*_FIELDS)


class SharedReads:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._usable: bool | None = None  # found out at the first read

    def read(
        self,
        node: str,
        fetch: Callable[[], NodeStatus],
        join: bool = True,
        asked: float | None = None,
    ) -> NodeStatus:
        """`fetch()`, or the answer of the same read another process has in flight (one that
        ended after `asked`, by default now: bot/asked.py). `join=False`: wait for that read to
        end, then `fetch()` (a read that starts now), and still share it with those who ask
        meanwhile."""
        asked = time.time() if asked is None else asked
        lock = self._open_lock(node)
        if lock is None:
            return fetch()
        with lock:
            if not _try_lock(lock):
                fcntl.flock(lock, fcntl.LOCK_EX)  # bounded: the reader has the node's timeout
                shared = self._load(node, asked) if join else None
                if shared is not None:
                    return shared
            status = fetch()
            self._save(node, status)
            return status

    def _path(self, node: str, suffix: str) -> Path:
        return self.directory / (quote(node, safe="") + suffix)

    def _open_lock(self, node: str) -> IO[str] | None:
        if self._usable is False:
            return None
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            lock = open(self._path(node, ".lock"), "a")  # noqa: SIM115 — closed by read()
        except OSError as exc:
            log.warning("reads of nodes are not shared between processes: %s", exc)
            self._usable = False
            return None
        self._usable = True
        return lock

    def _save(self, node: str, status: NodeStatus) -> None:
        path = self._path(node, ".json")
        temporary = path.with_name(f"{path.name}.{os.getpid()}")
        try:
            shared = {
                "finished": time.time(),
                "fields": _FIELDS,
                "node": status.node,
                "processes": [_values(p) for p in status.processes],
                "fetched_at": status.fetched_at,
                "error": status.error,
                "local": status.local,
                "answered_at": status.answered_at,
            }
            temporary.write_text(json.dumps(shared))
            os.replace(temporary, path)
        except OSError:  # a full disk: the others read for themselves
            pass

    def _load(self, node: str, asked: float) -> NodeStatus | None:
        try:
            found: dict[str, Any] = json.loads(self._path(node, ".json").read_text())
            if float(found["finished"]) < asked or tuple(found["fields"]) != _FIELDS:
                return None  # older than the question, or written by another version
            return NodeStatus(
                node=found["node"],
                processes=tuple(ProcessInfo(*p) for p in found["processes"]),
                fetched_at=found["fetched_at"],
                error=found["error"],
                local=found["local"],
                answered_at=found["answered_at"],
            )
        except (OSError, ValueError, TypeError, KeyError):
            return None


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
