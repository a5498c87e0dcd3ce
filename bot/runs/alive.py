"""Is a process (or a process group) still alive? Asked of pids recorded in the shared state.

A zombie does not count as alive: nobody may ever reap it in a container. A pid on another host
cannot be checked from here and counts as alive.
"""

from __future__ import annotations

import os
from functools import lru_cache

import psutil

HOST = os.uname().nodename


@lru_cache(maxsize=1)
def my_start() -> float:
    """When this process started: with the pid, it names this process even after pid reuse."""
    return psutil.Process().create_time()


def holder_id() -> str:
    """host:pid:start of this process, naming it in claims and leases other processes (on any
    host) read: with the start time, a reused pid is not the holder."""
    return f"{HOST}:{os.getpid()}:{my_start()!r}"


def process_alive(pid: int, started: float, host: str = HOST) -> bool:
    if host != HOST:
        return True
    if pid <= 0:
        return False
    try:
        proc = psutil.Process(pid)
        if proc.status() == psutil.STATUS_ZOMBIE:
            return False
        # A pid reused by an unrelated process must not keep the lock.
        return not started or abs(proc.create_time() - started) < 1.0
    except psutil.NoSuchProcess:
        return False


def group_alive(pgid: int, host: str = HOST) -> bool:
    """Any non-zombie process left in the process group (grandchildren count)."""
    if host != HOST:
        return True
    if pgid <= 0:
        return False
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    for proc in psutil.process_iter(["status"]):
        try:
            if os.getpgid(proc.pid) == pgid and proc.info["status"] != psutil.STATUS_ZOMBIE:
                return True
        except (ProcessLookupError, PermissionError):
            continue
    return False
