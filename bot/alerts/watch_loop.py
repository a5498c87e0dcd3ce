"""The watch loop of one node: a full poll when no listener covers it (else a cheap ping),
and the node-down incident when it stops answering."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

from bot import errors
from bot.alerts import events, exitlog
from bot.alerts.journal import Journal
from bot.alerts.listener import last_beat
from bot.alerts.records import ProcessEvent
from bot.alerts.watcher import NodeWatch
from bot.storage.alerts.store import AlertStore

log = logging.getLogger("supbot.alerts")

PING_INTERVAL = 10.0  # a node a listener covers is only pinged (reachability)
NODE_BACKOFF_MAX = 30.0  # an unreachable node is tried at least this often


class WatchLoop:
    """`watch_everything`: poll even while the node's listener is alive (belt and braces;
    events are de-duplicated)."""

    def __init__(
        self,
        services: Any,
        alerts: AlertStore,
        node: str,
        wake: threading.Event,
        watch_everything: bool = False,
    ) -> None:
        self.services, self.alerts, self.node, self.wake = services, alerts, node, wake
        self.name = f"alerts-watch-{node}"
        self.watch_everything = watch_everything
        self.watch = NodeWatch(node)
        self.journal = Journal(alerts, node)
        self._supervisord: Any = None  # psutil.Process of a local supervisord

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            interval = self.poll_once()
            stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def listener_live(self) -> bool:
        beat = last_beat(self.alerts.store, self.node)
        return beat is not None and beat[1]

    def poll_once(self) -> float:
        """One look at the node. Tracks reachability for the node-down incident. Returns the
        next interval."""
        watch, client = self.watch, self.services.fleet.client(self.node)
        try:
            lost = self.alerts.lost(self.node)
            catch_up, watch.lost_seen = lost != watch.lost_seen, lost
            if self.listener_live() and not self.watch_everything and not catch_up:
                client.call("getState")
                watch.seeded = False  # the listener has it; start afresh if it goes away
                self.journal.forget()
                interval = PING_INTERVAL
            else:
                interval = self._full_poll(client)
            if watch.down_since is not None and self.alerts.has_open_incident(self.node, "*"):
                self._record("NODE_UP")
            if watch.failures:
                log.info("node %s is reachable again", self.node)
            watch.down_since, watch.failures = None, 0
        except errors.NodeUnreachable as exc:
            interval = self._unreachable(exc)
        return interval

    def _full_poll(self, client: Any) -> float:
        watch, journal = self.watch, self.journal
        started = time.monotonic()
        config = client.config_info()
        names = {row["name"]: full for full, row in config.items()}
        startsecs = {full: int(row.get("startsecs", 1)) for full, row in config.items()}
        # Read before the snapshot: every exit logged so far is then older than the snapshot.
        logged = journal.read(client, names, startsecs)
        cpu_before = self._supervisord_cpu(client)
        processes = self.services.fleet.read_now(self.node)  # shared with users' status
        cost = time.monotonic() - started
        cpu_after = self._supervisord_cpu(client)
        if cpu_before is not None and cpu_after is not None:
            # supervisord's own CPU: its wall time is mostly waiting between 4 KB chunks
            cost = max(0.0, cpu_after - cpu_before)
        codes = {k: v.get("exitcodes", [0]) for k, v in client.config_info().items()}
        found = watch.observe(
            processes, codes, self.alerts.open_incident_processes(self.node), cost
        )
        if logged is None:  # no log file: guess from the snapshot, explained where possible
            found = [e for e in (self._explain(client, e) for e in found) if e is not None]
        else:  # each exit is one line of the log; the snapshot adds FATAL, RUNNING, STOPPED
            found = logged + [e for e in found if e.state not in ("EXITED", "BACKOFF")]
        if any([events.record(self.alerts, e) for e in found]):
            self.wake.set()
        journal.commit()
        return watch.interval

    def _unreachable(self, exc: Exception) -> float:
        """Say so once, retry with backoff (other nodes are watched by their own threads),
        and open the node-down incident after node_down_after."""
        watch = self.watch
        watch.down_since = watch.down_since or time.time()
        watch.failures += 1
        interval = min(NODE_BACKOFF_MAX, watch.interval * 2 ** min(watch.failures - 1, 5))
        if watch.failures == 1:
            log.warning("node %s unreachable: %s; retrying with backoff", self.node, exc)
        down_for = time.time() - watch.down_since
        if down_for >= self.services.settings.alerts.node_down_after and (
            not self.alerts.has_open_incident(self.node, "*")
        ):
            log.warning("node %s unreachable for %.0fs: %s", self.node, down_for, exc)
            self._record("NODE_DOWN", watch.down_since)
        return interval

    def _supervisord_cpu(self, client: Any) -> float | None:
        """CPU seconds supervisord has used, when it runs on this host (else None)."""
        if not client.local:
            return None
        try:
            if self._supervisord is None:
                import psutil

                self._supervisord = psutil.Process(int(client.call("getPID")))
            times = self._supervisord.cpu_times()
            return float(times.user + times.system)
        except Exception:  # another host's pid namespace, permissions, a restarted supervisord
            self._supervisord = None
            return None

    def _explain(self, client: Any, event: ProcessEvent) -> ProcessEvent | None:
        """A restart missed between polls: a crash or a stop + start? supervisord's log says."""
        if event.state != "EXITED" or event.exitstatus is not None:
            return event
        found = exitlog.verdict(client, event.process.partition(":")[2])
        if found is None:
            return event  # cannot tell: report it (README: the watcher's limit)
        if not found.crash:
            return None
        return replace(event, exitstatus=found.exitstatus, expected=False)

    def _record(self, state: str, at: float | None = None) -> None:
        """A node-level event (the node's process name is "*")."""
        event = ProcessEvent(self.node, "*", state, "health", stop=at or time.time())
        events.record(self.alerts, event)
        self.wake.set()
