"""One supervisord node: typed operations over XML-RPC, domain objects out, domain errors up."""

from __future__ import annotations

import contextlib
import threading
import time
import xmlrpc.client
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, TypeVar
from urllib.parse import urlparse

from bot import errors
from bot.config import NodeSettings
from bot.domain import LogTail, ProcessInfo, ReloadDiff
from bot.supervisor.faults import TRANSPORT_ERRORS, map_fault, map_transport_error
from bot.supervisor.transport import new_proxy

MAX_TAIL_LINES = 1000
T = TypeVar("T")
W = TypeVar("W")
_TAIL_MAX_BYTES = 4 * 1024 * 1024


class NodeClient:
    """Talks to one supervisord. Thread-safe: every call opens its own connection."""

    def __init__(self, settings: NodeSettings) -> None:
        self.settings = settings
        self.name = settings.name
        self._config: dict[str, dict[str, Any]] = {}
        self._config_lock = threading.Lock()

    @property
    def local(self) -> bool:
        """True when the node runs on this host, so psutil can read its processes."""
        parsed = urlparse(self.settings.url)
        return parsed.scheme == "unix" or parsed.hostname in ("127.0.0.1", "localhost", "::1")

    def call(self, method: str, *args: Any, target: str = "", wait: float = 0.0) -> Any:
        """Call `supervisor.<method>` (or a dotted name) with a fresh connection and a timeout;
        `wait` adds the seconds supervisord may legitimately take before answering."""
        settings = self.settings
        if wait:
            settings = replace(settings, timeout=settings.timeout + wait)
        proxy, transport = new_proxy(settings)
        name = method if "." in method else f"supervisor.{method}"
        try:
            return getattr(proxy, name)(*args)
        except xmlrpc.client.Fault as fault:
            raise map_fault(self.name, fault, target) from fault
        except TRANSPORT_ERRORS as exc:
            # Only what the network or the peer can cause: anything else is a bug and reaches
            # the top-level handler with its traceback, not "node unreachable (TypeError)".
            mapped = map_transport_error(self.name, settings.url, settings.timeout, exc)
            raise mapped from exc
        finally:
            transport.close()

    # --- reading -----------------------------------------------------------------------

    def config_info(self, refresh: bool = False) -> dict[str, dict[str, Any]]:
        """Program config (exitcodes, command, startsecs) by group:name; cached until reload."""
        with self._config_lock:
            if refresh or not self._config:
                rows = self.call("getAllConfigInfo")
                self._config = {f"{r['group']}:{r['name']}": r for r in rows}
            return self._config

    def all_processes(self) -> tuple[ProcessInfo, ...]:
        rows = self.call("getAllProcessInfo")
        config = self._config
        if not config or any(f"{r['group']}:{r['name']}" not in config for r in rows):
            config = self.config_info(refresh=True)
        return tuple(self._to_info(r, config) for r in rows)

    def process(self, full_name: str) -> ProcessInfo:
        row = self.call("getProcessInfo", full_name, target=full_name)
        config = self._config or self.config_info()
        if f"{row['group']}:{row['name']}" not in config:
            config = self.config_info(refresh=True)
        return self._to_info(row, config)

    def _to_info(self, row: dict[str, Any], config: dict[str, dict[str, Any]]) -> ProcessInfo:
        conf = config.get(f"{row['group']}:{row['name']}", {})
        exitcodes = conf.get("exitcodes")
        expected: bool | None = None
        if row["statename"] == "EXITED" and exitcodes is not None:
            expected = row["exitstatus"] in exitcodes
        return ProcessInfo(
            node=self.name,
            group=row["group"],
            name=row["name"],
            state=row["statename"],
            pid=row["pid"],
            start=row["start"],
            stop=row["stop"],
            now=row["now"],
            exitstatus=row["exitstatus"],
            expected_exit=expected,
            spawnerr=row.get("spawnerr", ""),
            description=row.get("description", ""),
            command=conf.get("command", ""),
            startsecs=conf.get("startsecs", 1),
        )

    # --- acting ------------------------------------------------------------------------

    def start(self, full_name: str, wait: bool = True) -> None:
        budget = self._waits(full_name, "startsecs") if wait else 0.0
        self.call("startProcess", full_name, wait, target=full_name, wait=budget)

    def stop(self, full_name: str, wait: bool = True) -> None:
        budget = self._waits(full_name, "stopwaitsecs") if wait else 0.0
        self.call("stopProcess", full_name, wait, target=full_name, wait=budget)

    def _waits(self, name: str, key: str) -> float:
        """With wait=True supervisord answers only after startsecs / stopwaitsecs (the longest
        of a group's processes): a slow stop is not a node that does not answer."""
        try:
            config = self._config or self.config_info()
        except errors.SupbotError:
            return 0.0
        group = name.split(":", 1)[0] + ":"
        rows = (
            [config[name]]
            if name in config
            else [r for k, r in config.items() if k.startswith(group)]
        )
        return float(max((r.get(key, 10) for r in rows), default=10))

    def signal(self, full_name: str, signal: str) -> None:
        self.call("signalProcess", full_name, signal, target=full_name)

    def clear_log(self, full_name: str) -> None:
        self.call("clearProcessLogs", full_name, target=full_name)

    # --- logs --------------------------------------------------------------------------

    def tail(self, full_name: str, lines: int = 100, stream: str = "stdout") -> LogTail:
        """The last `lines` lines, read from the end in growing windows, never the whole file."""
        method = "tailProcessStdoutLog" if stream == "stdout" else "tailProcessStderrLog"
        window = max(4096, lines * 160)
        while True:
            text, offset, overflow = self._tail_window(method, full_name, window)
            found = text.splitlines()
            if overflow and found:
                found = found[1:]  # the first line is cut by the window
            if len(found) >= lines or not overflow or window >= _TAIL_MAX_BYTES:
                node, proc = self.name, full_name
                kept = tuple(found[-lines:]) if lines else ()
                return LogTail(
                    proc, node, stream, kept, overflow or len(found) > lines, offset, lines
                )
            window = min(window * 4, _TAIL_MAX_BYTES)

    def _tail_window(self, method: str, full_name: str, length: int) -> tuple[str, int, bool]:
        lengths = [max(1, length - shrink) for shrink in range(4)]
        result: tuple[str, int, bool] = self.nudged(
            lengths, lambda n: self.call(method, full_name, 0, n, target=full_name)
        )
        return result

    def read_log_from(self, full_name: str, offset: int, stream: str = "stdout") -> tuple[str, int]:
        """Text appended since `offset` (for follow): (text, new_offset). Starts over when the
        log was cleared or rotated; skips ahead when more than 64 KB arrived."""
        kind = "Stdout" if stream == "stdout" else "Stderr"
        _, size, _ = self.call(f"tailProcess{kind}Log", full_name, 0, 0)
        if size < offset:
            offset = 0
        offset = max(offset, size - 65536)
        length = size - offset
        if length <= 0:
            return "", size
        windows = [
            (offset + a, length - a - b)
            for a, b in sorted(((a, b) for a in range(4) for b in range(4)), key=sum)
            if length - a - b > 0
        ]
        try:
            return self.nudged(
                windows,
                lambda w: (self.call(f"readProcess{kind}Log", full_name, w[0], w[1]), sum(w)),
            )
        except errors.ServerError:
            return "", offset

    def log_size(self, full_name: str, stream: str = "stdout") -> int:
        kind = "Stdout" if stream == "stdout" else "Stderr"
        size: int = self.call(f"tailProcess{kind}Log", full_name, 0, 0, target=full_name)[1]
        return size

    def read_log_window(
        self, full_name: str, start: int, end: int, stream: str = "stdout"
    ) -> tuple[str, int, int]:
        """The text of bytes [start, end), each edge moved in by up to 3 bytes when it would
        split a UTF-8 character: (text, actual start, actual end)."""
        kind = "Stdout" if stream == "stdout" else "Stderr"
        edges = sorted(((a, b) for a in range(4) for b in range(4)), key=sum)
        windows = [(start + a, end - b) for a, b in edges if end - b - start - a > 0]

        def read(window: tuple[int, int]) -> tuple[str, int, int]:
            at, to = window
            text: str = self.call(f"readProcess{kind}Log", full_name, at, to - at, target=full_name)
            return text, at, to

        return self.nudged(windows or [(start, end)], read)

    @staticmethod
    def nudged(windows: Sequence[W], read: Callable[[W], T]) -> T:
        """Read the first byte window supervisord can answer. It answers HTTP 500 when a
        window's edge splits a UTF-8 character; moving the edge by a byte or two fixes it."""
        for window in windows[:-1]:
            try:
                return read(window)
            except errors.ServerError:
                continue
        return read(windows[-1])

    # --- reload ------------------------------------------------------------------------

    def reload_diff(self) -> ReloadDiff:
        """`supervisorctl reread`: what `update` would add, change and remove. Changes nothing."""
        added, changed, removed = self.call("reloadConfig")[0]
        return ReloadDiff(
            self.name, tuple(sorted(added)), tuple(sorted(changed)), tuple(sorted(removed))
        )

    def apply_reload(
        self, diff: ReloadDiff, progress: Callable[[str], None] | None = None
    ) -> list[str]:
        """`supervisorctl update` for exactly `diff`; returns one line per group touched."""
        done: list[str] = []

        def note(line: str) -> None:
            done.append(line)
            if progress:
                progress(line)

        for group in diff.removed:
            self._stop_group(group)
            self.call("removeProcessGroup", group, target=group)
            note(f"{group}: stopped and removed")
        for group in diff.changed:
            self._stop_group(group)
            self.call("removeProcessGroup", group, target=group)
            self.call("addProcessGroup", group, target=group)
            note(f"{group}: updated process group")
        for group in diff.added:
            self.call("addProcessGroup", group, target=group)
            note(f"{group}: added process group")
        self.config_info(refresh=True)
        return done

    def _stop_group(self, group: str) -> None:
        with contextlib.suppress(errors.NotRunning):
            budget = self._waits(group, "stopwaitsecs")
            self.call("stopProcessGroup", group, True, target=group, wait=budget)


def wait_for_state(
    client: NodeClient, full_name: str, done: Callable[[ProcessInfo], bool], seconds: float
) -> ProcessInfo:
    """Poll one process until `done` holds or the deadline passes; returns the last info."""
    deadline = time.monotonic() + seconds
    info = client.process(full_name)
    while not done(info) and time.monotonic() < deadline:
        time.sleep(0.1)
        info = client.process(full_name)
    return info
