"""`supbot listen`: a supervisor event listener. Records each event, then acknowledges it.

Only the protocol goes to stdout (anything else puts the listener in UNKNOWN state and stops
events); logs go to stderr. Nothing in the loop touches the network: supervisord discards
events when a listener is slow. Delivery, when enabled, runs in another thread.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable
from typing import IO

from bot.alerts import events
from bot.alerts.records import ProcessEvent
from bot.config import Settings
from bot.errors import StateUnavailable
from bot.state import Store
from bot.storage.alerts.store import AlertStore

log = logging.getLogger("supbot.listen")

HEARTBEAT_PREFIX = "listener:"
LISTENER_LIVE = 180.0  # TICK_60 heartbeats: three missed ones mean the listener is gone
HELD_MAX = 10_000  # events kept in memory while the state database cannot take them


def parse_tokens(line: str) -> dict[str, str]:
    """`a:1 b:2` → {'a': '1', 'b': '2'}; tokens without a colon are ignored."""
    out: dict[str, str] = {}
    for token in line.split():
        key, sep, value = token.partition(":")
        if sep:
            out[key] = value
    return out


def event_from(node: str, headers: dict[str, str], payload: str) -> ProcessEvent | None:
    """A ProcessEvent for PROCESS_STATE_* events; None for anything else."""
    name = headers.get("eventname", "")
    if not name.startswith("PROCESS_STATE_"):
        return None
    fields = parse_tokens(payload.split("\n", 1)[0])
    group, proc = fields.get("groupname"), fields.get("processname")
    if not group or not proc:
        raise ValueError(f"{name} payload without processname/groupname: {payload[:200]!r}")
    expected = fields.get("expected")
    return ProcessEvent(
        node=node,
        process=f"{group}:{proc}",
        state=name.removeprefix("PROCESS_STATE_"),
        source="listener",
        from_state=fields.get("from_state", ""),
        pid=int(fields.get("pid", "0") or 0),
        stop=time.time(),
        tries=int(fields.get("tries", "0") or 0),
        expected=None if expected is None else expected == "1",
        serial=headers.get("serial", ""),
    )


def last_beat(store: Store, node: str) -> tuple[float, bool] | None:
    """When the node's listener last said it is alive and whether it still is, judged by the
    database's clock (a listener on another host beats with a lease in that time); None: it
    never ran."""
    from bot.storage import heartbeats

    with store.connect() as db:
        return heartbeats.judged(db, HEARTBEAT_PREFIX + node, store.now(db), LISTENER_LIVE)


def node_name(settings: Settings, explicit: str | None, env: dict[str, str]) -> str:
    """--node, else the node whose url is supervisord's SUPERVISOR_SERVER_URL, else the only
    node, else the host name."""
    if explicit:
        return explicit
    server = env.get("SUPERVISOR_SERVER_URL", "")
    for node in settings.nodes:
        if server and node.url.rstrip("/") == server.rstrip("/"):
            return node.name
    if len(settings.nodes) == 1:
        return settings.nodes[0].name
    log.error("cannot tell which [[nodes]] entry this supervisord is (%s); use --node", server)
    return os.uname().nodename


class Listener:
    """The protocol loop over `stdin`/`stdout`. `on_event` wakes a sender thread, if any."""

    def __init__(
        self,
        store: Store,
        node: str,
        stdin: IO[str],
        stdout: IO[str],
        on_event: Callable[[], None] = lambda: None,
    ) -> None:
        self.store, self.node = store, node
        self.alerts = AlertStore(store)
        self.stdin, self.stdout = stdin, stdout
        self.on_event = on_event
        self.received = 0
        self.last_poolserial: int | None = None
        self.held: deque[ProcessEvent] = deque()
        self.dropped = 0
        self.state_down: str | None = None

    def run(self) -> None:
        try:
            self.store.ensure()
            self.store.heartbeat(HEARTBEAT_PREFIX + self.node, "started", LISTENER_LIVE)
        except StateUnavailable as exc:  # keep speaking the protocol; events wait in memory
            self._unavailable(exc)
        while True:
            self._send("READY\n")
            line = self.stdin.readline()
            if not line:
                return  # supervisord closed our stdin: it is shutting down
            headers = parse_tokens(line)
            try:
                length = int(headers["len"])
            except (KeyError, ValueError):
                log.error("malformed event header, acknowledged: %r", line[:200])
                length = 0
            payload = self.stdin.read(length) if length > 0 else ""
            self._handle(headers, payload)
            self._send("RESULT 2\nOK")

    def _handle(self, headers: dict[str, str], payload: str) -> None:
        self.received += 1
        try:
            name = headers.get("eventname", "")
            event = event_from(self.node, headers, payload)
            if event is not None:
                self._hold(event)
            self._check_gap(headers.get("poolserial", ""))
            if name.startswith("TICK_60"):
                detail = f"{self.received} events"
                self.store.heartbeat(HEARTBEAT_PREFIX + self.node, detail, LISTENER_LIVE)
        except StateUnavailable as exc:
            self._unavailable(exc)
        except Exception:
            # Never die on one bad event: supervisord would restart us and events would pile up.
            log.exception("event not recorded (acknowledged anyway): %r %r", headers, payload[:200])
        self._record_held()

    def _hold(self, event: ProcessEvent) -> None:
        if len(self.held) >= HELD_MAX:
            self.held.popleft()
            self.dropped += 1
        self.held.append(event)

    def _record_held(self) -> None:
        """Record what waits, oldest first; a state database that cannot take it (full,
        removed, not a database) keeps the events here until the next event or TICK_60."""
        recorded = False
        while self.held:
            try:
                recorded = events.record(self.alerts, self.held[0]) or recorded
            except StateUnavailable as exc:
                self._unavailable(exc)
                break
            self.held.popleft()
        else:
            if self.state_down is not None:
                log.warning(
                    "state database takes events again; recorded what was held%s",
                    f" ({self.dropped} oldest dropped past {HELD_MAX})" if self.dropped else "",
                )
                self.state_down, self.dropped = None, 0
        if recorded:
            self.on_event()

    def _unavailable(self, exc: StateUnavailable) -> None:
        if self.state_down != str(exc):
            log.error("%s; events are held in memory (up to %d) until it is back", exc, HELD_MAX)
        self.state_down = str(exc)

    def _check_gap(self, poolserial: str) -> None:
        """supervisord discards events when our buffer overflows; poolserial shows the gap.
        The count is kept (digest, logs) and serve re-polls the node to catch up."""
        if not poolserial.isdigit():
            return
        serial = int(poolserial)
        previous, self.last_poolserial = self.last_poolserial, serial
        if previous is not None and serial > previous + 1:
            lost = serial - previous - 1
            log.warning("supervisord discarded %d events (raise buffer_size)", lost)
            self.alerts.add_lost(self.node, lost)

    def _send(self, text: str) -> None:
        self.stdout.write(text)
        self.stdout.flush()


def protocol_streams() -> tuple[IO[str], IO[str]]:
    """Private handles on fd 0/1, and sys.stdout pointed at stderr so a stray print() cannot
    corrupt the protocol."""
    stdin = io.TextIOWrapper(os.fdopen(os.dup(0), "rb"), encoding="utf-8", errors="replace")
    stdout = io.TextIOWrapper(os.fdopen(os.dup(1), "wb"), encoding="utf-8", write_through=True)
    sys.stdout = sys.stderr
    return stdin, stdout
