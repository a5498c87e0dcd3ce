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
import os
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import IO, Any
from urllib.parse import quote

from bot.domain import NodeStatus, ProcessInfo

log = logging.getLogger("supbot.supervisor")


class SharedReads:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._usable: bool | None = None  # found out at the first read

    def read(self, node: str, fetch: Callable[[], NodeStatus]) -> NodeStatus:
        """`fetch()`, or the answer of the same read another process has in flight."""
        asked = time.time()
        lock = self._open_lock(node)
        if lock is None:
            return fetch()
        with lock:
            if not _try_lock(lock):
                fcntl.flock(lock, fcntl.LOCK_EX)  # bounded: the reader has the node's timeout
                shared = self._load(node, asked)
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
            temporary.write_text(json.dumps({"finished": time.time(), "status": asdict(status)}))
            os.replace(temporary, path)
        except OSError:  # a full disk: the others read for themselves
            pass

    def _load(self, node: str, asked: float) -> NodeStatus | None:
        try:
            found: dict[str, Any] = json.loads(self._path(node, ".json").read_text())
            if float(found["finished"]) < asked:
                return None
            status = dict(found["status"])
            processes = tuple(ProcessInfo(**p) for p in status.pop("processes"))
            return NodeStatus(processes=processes, **status)
        except (OSError, ValueError, TypeError, KeyError):
            return None


def _try_lock(lock: IO[str]) -> bool:
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
