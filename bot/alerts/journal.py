"""Exits from supervisord's own log, read forward from the position last read for the node.

The position is kept in the shared state, so a watcher that was down (serve restarted, killed)
catches up on every crash logged meanwhile, and each `exited: … not expected` line is one crash
however often the watcher restarts: the line is read once, and its event key is the line's own
time, so a read repeated after a crash is ignored. A log shorter than the position (rotated or
cleared) is read again from its tail, and the log says so.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass, field

from bot import errors
from bot.alerts.records import ProcessEvent
from bot.storage.alerts.store import AlertStore
from bot.supervisor.client import NodeClient

log = logging.getLogger("supbot.alerts")

CHUNK = 1 << 20  # bytes per readLog call while catching up
TAIL = 32768  # where reading starts without a position: the log's last 32 KB
STALE = 600.0  # lines read from a tail older than this are not news (as for the watcher)

LINE = re.compile(
    r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) \S+ "
    r"(spawned|success|exited|gave up): '?([^\s']+)'?(.*)$"
)


@dataclass
class Entry:
    at: float
    kind: str  # spawned | success | exited | gave up
    name: str  # the process name (without group), as supervisord logs it
    rest: str


def parse(line: str) -> Entry | None:
    m = LINE.match(line)
    if m is None:
        return None
    stamp, millis, kind, name, rest = m.groups()
    at = time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) + int(millis) / 1000
    return Entry(at, kind, name, rest)


@dataclass
class Journal:
    """One node's reader. `read()` returns the events of the lines logged since the last call
    (None: this supervisord keeps no log file); `commit()` then records the position."""

    alerts: AlertStore
    node: str
    pids: dict[str, int] = field(default_factory=dict)  # last spawned pid per name
    running: dict[str, bool] = field(default_factory=dict)  # reached RUNNING since spawn
    crashed: set[str] = field(default_factory=set)  # exited since it last reached RUNNING
    _position: int | None = None  # committed: every line before it is recorded
    _next: int | None = None  # after the last read, until commit()

    def read(
        self, client: NodeClient, names: dict[str, str], startsecs: dict[str, int]
    ) -> list[ProcessEvent] | None:
        """`names`: process name → group:name; `startsecs`: group:name → its startsecs."""
        try:
            position, since = self._start(client)
            text, self._next = self._read_from(client, position)
        except errors.NoLogFile:
            return None
        out: list[ProcessEvent] = []
        for line in text.splitlines():
            entry = parse(line)
            if entry is None or entry.name not in names:
                continue
            event = self._event(entry, names[entry.name], startsecs)
            if event is not None and event.stop >= since:
                out.append(event)
        return out

    def commit(self) -> None:
        """The events of the last read are recorded: the next start continues after them."""
        if self._next is None or self._next == self._position:
            return
        self._position = self._next
        self.alerts.save_log_position(self.node, self._next)

    # --- where to read ------------------------------------------------------------------

    def _start(self, client: NodeClient) -> tuple[int, float]:
        """The byte to read from, and the oldest line time that is news."""
        saved = self._position if self._position is not None else self._saved()
        if saved is None:
            return self._tail(client), time.time() - STALE
        if saved > 0 and self._byte(client, saved - 1) != "\n":
            size = self._size(client)
            log.warning(
                "supervisord's log on %s is %s than the position read last (%d > %d bytes): "
                "rotated or cleared; reading its last %d KB, exits logged before may be missed",
                self.node,
                "shorter" if size < saved else "not the file read",
                saved,
                size,
                TAIL // 1024,
            )
            return self._tail(client, size), time.time() - STALE
        return saved, 0.0

    def _saved(self) -> int | None:
        return self.alerts.log_position(self.node)

    def forget(self) -> None:
        """A listener covers the node: when the watcher takes over again it starts from the
        log's tail (the listener recorded what came before)."""
        if self._position is None and self._saved() is None:
            return
        self._position = self._next = None
        self.alerts.forget_log_position(self.node)

    def _tail(self, client: NodeClient, size: int | None = None) -> int:
        """The start of the first whole line in the log's last TAIL bytes."""
        size = self._size(client) if size is None else size
        if size <= TAIL:
            return 0

        def first_line_end(start: int) -> int:
            text = str(client.call("readLog", start, TAIL))
            cut = text.find("\n")
            return start + len(text[: cut + 1].encode("utf-8")) if cut >= 0 else size

        return client.nudged([size - TAIL + k for k in range(4)], first_line_end)

    def _byte(self, client: NodeClient, offset: int) -> str:
        """The character at `offset` ('' past the end; '?' inside a UTF-8 sequence)."""
        try:
            return str(client.call("readLog", offset, 1))
        except errors.ServerError:
            return "?"

    def _size(self, client: NodeClient) -> int:
        """The log's length in bytes (readLog has no size: search for its last byte)."""
        low, high = 0, TAIL
        while self._byte(client, high - 1) != "":
            low, high = high, high * 2
        while low < high:  # the first offset with no byte
            mid = (low + high) // 2
            if self._byte(client, mid) != "":
                low = mid + 1
            else:
                high = mid
        return low

    def _read_from(self, client: NodeClient, position: int) -> tuple[str, int]:
        """Whole lines from `position` to the end, and the offset after the last one."""
        parts: list[str] = []
        while True:
            # a chunk may end inside a UTF-8 character: shorten it by a byte or three
            windows = [(position, CHUNK - shrink) for shrink in range(4)]
            text = client.nudged(windows, lambda w: str(client.call("readLog", *w)))
            data = text.encode("utf-8")
            whole = data[: data.rfind(b"\n") + 1]
            if not whole and len(data) >= CHUNK - 3:
                whole = data  # one line longer than a chunk: not supervisord's, skip it
            parts.append(whole.decode("utf-8", errors="replace"))
            position += len(whole)
            if len(data) < CHUNK - 3:
                return "".join(parts), position

    # --- what a line means --------------------------------------------------------------

    def _event(self, e: Entry, process: str, startsecs: dict[str, int]) -> ProcessEvent | None:
        if e.kind == "spawned":
            pid = re.search(r"with pid (\d+)", e.rest)
            self.pids[e.name] = int(pid.group(1)) if pid else 0
            self.running[e.name] = False
            return None
        if e.kind == "success":
            self.running[e.name] = True
            if e.name in self.crashed:  # it came back after a crash: the incident recovers
                self.crashed.discard(e.name)
                return self._make(e, process, "RUNNING", pid=self.pids.get(e.name, 0))
            return None
        if e.kind == "gave up":
            return self._make(e, process, "FATAL")
        if not e.rest.rstrip().endswith("not expected)"):
            return None
        self.crashed.add(e.name)
        status = re.search(r"exit status (-?\d+)", e.rest)
        # Exiting before startsecs is BACKOFF (as supervisord and the listener say), not EXITED.
        early = self.running.get(e.name) is False and startsecs.get(process, 1) > 0
        return self._make(
            e,
            process,
            "BACKOFF" if early else "EXITED",
            pid=self.pids.get(e.name, 0),
            exitstatus=int(status.group(1)) if status else -1,
            expected=False,
        )

    def _make(self, e: Entry, process: str, state: str, **kw: object) -> ProcessEvent:
        return ProcessEvent(
            node=self.node,
            process=process,
            state=state,
            source="log",
            stop=e.at,
            **kw,  # type: ignore[arg-type]
        )
