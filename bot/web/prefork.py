"""Pre-fork serving: one listening socket, N worker processes accepting on it.

The parent binds the port, then starts each worker as a fresh interpreter (multiprocessing's
`spawn`, as uvicorn's own workers do): a worker inherits none of the parent's threads, locks
or database connections, only the socket. The kernel hands each new connection to one of the
workers waiting on it. The parent serves nothing itself: it replaces a worker that dies (after
a delay that doubles while they keep dying, so a worker that cannot start is no crash loop),
forwards SIGHUP to every worker, and stops them all on SIGTERM/SIGINT.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import signal
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.process import BaseProcess
from typing import Any

log = logging.getLogger("supbot.web")

FIRST_RESTART = 1.0  # seconds before replacing a worker that died
MAX_RESTART = 60.0
STABLE = 60.0  # a worker that ran this long died of something new: the delay starts over
CHECK = 0.5  # how often the parent looks at its workers
STOP_GRACE = 20.0  # seconds a worker has to finish its requests on SIGTERM

# What a worker runs: (its number, the listening socket, the parent's pid, *extra args).
WorkerMain = Callable[..., Any]


def listening_socket(host: str, port: int, backlog: int = 2048) -> socket.socket:
    """The socket every worker accepts on, bound once here (IPv6 when `host` says so)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(backlog)
    sock.set_inheritable(True)
    return sock


@dataclass
class _Slot:
    number: int
    process: BaseProcess | None = None
    started: float = 0.0
    delay: float = FIRST_RESTART
    restart_at: float = 0.0  # monotonic; 0 while the worker runs


class WorkerPool:
    """`WorkerPool(main, 2, sock, args).run(stop)` until `stop` is set (or a signal)."""

    def __init__(
        self, main: WorkerMain, count: int, sock: socket.socket, args: tuple[Any, ...] = ()
    ) -> None:
        self.main, self.sock, self.args = main, sock, args
        self.slots = [_Slot(i) for i in range(count)]
        self._context = multiprocessing.get_context("spawn")

    def pids(self) -> list[int]:
        return [s.process.pid for s in self.slots if s.process and s.process.pid]

    def run(self, stop: threading.Event, on_hangup: Callable[[], object] | None = None) -> None:
        """Start every worker and look after them until `stop` is set, SIGTERM or SIGINT;
        then stop them all. SIGHUP runs `on_hangup` here, then reaches every worker."""
        self._signals(stop, on_hangup)
        for slot in self.slots:
            self._start(slot)
        try:
            while not stop.wait(CHECK):
                for slot in self.slots:
                    self._look_after(slot)
        finally:
            self.stop()

    def stop(self, grace: float = STOP_GRACE) -> None:
        running = [s.process for s in self.slots if s.process is not None and s.process.is_alive()]
        for process in running:
            process.terminate()
        deadline = time.monotonic() + grace
        for process in running:
            process.join(max(0.0, deadline - time.monotonic()))
            if process.is_alive():
                log.warning("worker pid %s did not stop within %.0f s: killed", process.pid, grace)
                process.kill()
                process.join(5)

    def signal_all(self, signum: int) -> None:
        for pid in self.pids():
            # one that died meanwhile is replaced, and the new one reads the new config
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signum)

    def _signals(self, stop: threading.Event, on_hangup: Callable[[], object] | None) -> None:
        if threading.current_thread() is not threading.main_thread():
            return  # only the main thread may set handlers (a pool run from a test thread)

        def hangup(*_: object) -> None:
            if on_hangup is not None:
                on_hangup()
            self.signal_all(signal.SIGHUP)

        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        signal.signal(signal.SIGHUP, hangup)

    def _start(self, slot: _Slot) -> None:
        process = self._context.Process(
            target=self.main,
            args=(slot.number, self.sock, os.getpid(), *self.args),
            name=f"supbot-worker-{slot.number}",
        )
        process.start()
        slot.process, slot.started, slot.restart_at = process, time.monotonic(), 0.0
        log.info("worker %d started (pid %s)", slot.number, process.pid)

    def _look_after(self, slot: _Slot) -> None:
        """A dead worker is replaced after its delay; the delay doubles while they keep dying."""
        process = slot.process
        now = time.monotonic()
        if slot.restart_at:
            if now >= slot.restart_at:
                self._start(slot)
            return
        if process is None or process.is_alive():
            return
        process.join(0)
        if now - slot.started >= STABLE:
            slot.delay = FIRST_RESTART
        slot.restart_at = now + slot.delay
        log.warning(
            "worker %d (pid %s) exited with %s; starting another in %.0f s",
            slot.number,
            process.pid,
            _exit_text(process.exitcode),
            slot.delay,
        )
        slot.delay = min(slot.delay * 2, MAX_RESTART)


def _exit_text(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"signal {signal.Signals(-code).name}"
        except ValueError:
            return f"signal {-code}"
    return f"code {code}"


def exit_with_parent(parent: int, check: float = 1.0) -> None:
    """In a worker: SIGTERM ourselves once the parent is gone (killed with -9), so no orphan
    keeps serving the port on its own."""

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(check)
        log.warning("the supbot parent process %d is gone: this worker stops", parent)
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()
