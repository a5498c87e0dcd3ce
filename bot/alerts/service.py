"""AlertsWorker: what `supbot serve` runs for alerts — event processing and delivery, a watcher
per node without a live listener (which also checks the node is reachable), listener
heartbeats and the digest schedule. `listen` runs only the delivery part when it may send."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import replace
from typing import Any

from bot import errors
from bot.alerts import digest, events, exitlog, incidents
from bot.alerts.delivery import Deliverer, log_fetcher, web_client
from bot.alerts.events import ProcessEvent
from bot.alerts.journal import Journal
from bot.alerts.listener import HEARTBEAT_PREFIX
from bot.alerts.watcher import NodeWatch
from bot.config import Settings
from bot.domain import ProcessInfo
from bot.names import matches_any
from bot.slack.audit_channel import AuditFeed

log = logging.getLogger("supbot.alerts")

LISTENER_LIVE = 180.0  # TICK_60 heartbeats: three missed ones mean the listener is gone
EVENT_POLL = 0.025  # how often another process's new events are looked for
AUDIT_POLL = 2.0  # how often the audit table is read for other processes' entries
HOUSEKEEPING = 10.0
NODE_BACKOFF_MAX = 30.0  # an unreachable node is tried at least this often


def router(settings: Settings) -> incidents.Router:
    """The `alerts_channel` of the first binding whose programs match, else [alerts] channel."""

    def route(node: str, process: str) -> str | None:
        if ":" in process:
            group, _, name = process.partition(":")
            info = ProcessInfo(node, group, name, "", 0, 0, 0, 0, 0, None, "", "")
            for binding in settings.channels:
                if binding.alerts_channel and matches_any(info, binding.programs):
                    return binding.alerts_channel
        if settings.alerts.channel:
            return settings.alerts.channel
        return next((b.alerts_channel for b in settings.channels if b.alerts_channel), None)

    return route


class AlertsWorker:
    """`AlertsWorker(services).start()` … `.stop()`. `watch=False` runs only processing and
    delivery (the listener's sender); `watch_everything` polls nodes that have a listener too."""

    def __init__(
        self,
        services: Any,
        watch: bool = True,
        deliver: bool | None = None,
        watch_everything: bool = False,
    ) -> None:
        self.services = services
        settings: Settings = services.settings
        self.store = services.store
        self.engine = incidents.IncidentEngine(self.store, router(settings))
        send = bool(settings.secrets.bot_token) if deliver is None else deliver
        self.deliverer = (
            Deliverer(
                self.store,
                web_client(settings),
                settings,
                log_fetcher(services.fleet, services.redactor),
            )
            if send
            else None
        )
        self.audit_feed = (
            AuditFeed(self.store, services.audit, settings.audit_channel)
            if send and settings.audit_channel
            else None
        )
        self._audit_fed = 0.0
        self._audit_due = threading.Event()
        if self.audit_feed:
            services.audit.listeners.append(self.audit_recorded)
        self.watch = watch
        # Poll even nodes whose listener is alive (belt and braces; events are de-duplicated).
        self.watch_everything = watch_everything
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._pruned = 0.0
        self._supervisord: dict[str, Any] = {}
        self.watches = {name: NodeWatch(name) for name in services.fleet.clients}
        self.journals = {name: Journal(self.store, name) for name in services.fleet.clients}

    def start(self) -> AlertsWorker:
        self._spawn("alerts-deliver", self._deliver_loop)
        if self.watch:
            for name in self.watches:
                self._spawn(f"alerts-watch-{name}", self._watch_loop, name)
            self._spawn("alerts-housekeeping", self._housekeeping_loop)
        return self

    def restart_with(self, services: Any) -> None:
        """After a config reload: the same worker on the new services."""
        self.stop()
        self.__init__(services, self.watch)  # type: ignore[misc]
        self.start()

    def _spawn(self, name: str, target: Any, *args: Any) -> None:
        thread = threading.Thread(target=self._guard, args=(target, *args), name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _guard(self, target: Any, *args: Any) -> None:
        while not self._stop.is_set():
            try:
                target(*args)
                return
            except Exception:
                log.exception("alerts thread failed; restarting it in 5s")
                self._stop.wait(5)

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self.wake.set()
        for thread in self._threads:
            thread.join(timeout)
        if self.audit_recorded in self.services.audit.listeners:
            self.services.audit.listeners.remove(self.audit_recorded)

    def audit_recorded(self, _entry: object = None) -> None:
        """This process recorded an action: queue its audit line now, not at the next poll."""
        self._audit_due.set()
        self.wake.set()

    # --- processing and delivery ---------------------------------------------------------

    def _deliver_loop(self) -> None:
        while not self._stop.is_set():
            wait = self.step()
            if wait > 0:
                self.wake.wait(min(wait, EVENT_POLL))
                self.wake.clear()

    def step(self) -> float:
        """Process new events, queue audit lines, send what may go now. Returns how long the
        caller may wait (0: there is more to do at once)."""
        busy = False
        if self._has("SELECT 1 FROM alert_events WHERE processed=0 LIMIT 1"):
            busy = self.engine.process_pending() > 0
        if self.audit_feed and (
            self._audit_due.is_set() or time.monotonic() - self._audit_fed >= AUDIT_POLL
        ):
            self._audit_due.clear()
            self._audit_fed = time.monotonic()
            self.audit_feed.feed()
        wait = 1.0
        if self.deliverer and self._has(
            "SELECT 1 FROM alert_outbox WHERE status IN ('pending','claimed') LIMIT 1"
        ):
            wait = self.deliverer.deliver_ready()
            busy = busy or wait == 0
        return 0.0 if busy else wait

    def _has(self, sql: str) -> bool:
        with self.store.connect() as db:
            return db.execute(sql).fetchone() is not None

    # --- watching ----------------------------------------------------------------------

    def listener_live(self, node: str) -> bool:
        beat = self.store.last_heartbeat(HEARTBEAT_PREFIX + node)
        return beat is not None and time.time() - beat["seen"] < LISTENER_LIVE

    def _watch_loop(self, node: str) -> None:
        while not self._stop.is_set():
            started = time.monotonic()
            interval = self.poll_once(node)
            self._stop.wait(max(0.0, interval - (time.monotonic() - started)))

    def poll_once(self, node: str) -> float:
        """One look at a node: a full poll when no listener covers it, else a cheap ping.
        Tracks reachability for the node-down incident. Returns the next interval."""
        watch, client = self.watches[node], self.services.fleet.client(node)
        try:
            lost = events.lost(self.store, node)
            catch_up, watch.lost_seen = lost != watch.lost_seen, lost
            if self.listener_live(node) and not self.watch_everything and not catch_up:
                client.call("getState")
                watch.seeded = False  # the listener has it; start afresh if it goes away
                self.journals[node].forget()
                interval = HOUSEKEEPING
            else:
                interval = self._full_poll(node, client)
            if watch.down_since is not None and self._open_incident(node, "*"):
                self._record(node, "*", "NODE_UP")
            if watch.failures:
                log.info("node %s is reachable again", node)
            watch.down_since, watch.failures = None, 0
        except errors.NodeUnreachable as exc:
            interval = self._unreachable(node, exc)
        return interval

    def _full_poll(self, node: str, client: Any) -> float:
        watch, journal = self.watches[node], self.journals[node]
        started = time.monotonic()
        config = client.config_info()
        names = {row["name"]: full for full, row in config.items()}
        startsecs = {full: int(row.get("startsecs", 1)) for full, row in config.items()}
        # Read before the snapshot: every exit logged so far is then older than the snapshot.
        logged = journal.read(client, names, startsecs)
        cpu_before = self._supervisord_cpu(client)
        processes = client.all_processes()
        cost = time.monotonic() - started
        cpu_after = self._supervisord_cpu(client)
        if cpu_before is not None and cpu_after is not None:
            # supervisord's own CPU: its wall time is mostly waiting between 4 KB chunks
            cost = max(0.0, cpu_after - cpu_before)
        codes = {k: v.get("exitcodes", [0]) for k, v in client.config_info().items()}
        found = watch.observe(processes, codes, self._open_processes(node), cost)
        if logged is None:  # no log file: guess from the snapshot, explained where possible
            found = [e for e in (self._explain(client, e) for e in found) if e is not None]
        else:  # each exit is one line of the log; the snapshot adds FATAL, RUNNING, STOPPED
            found = logged + [e for e in found if e.state not in ("EXITED", "BACKOFF")]
        if any([events.record(self.store, e) for e in found]):
            self.wake.set()
        journal.commit()
        return watch.interval

    def _unreachable(self, node: str, exc: Exception) -> float:
        """Say so once, retry with backoff (other nodes are watched by their own threads),
        and open the node-down incident after node_down_after."""
        watch = self.watches[node]
        watch.down_since = watch.down_since or time.time()
        watch.failures += 1
        interval = min(NODE_BACKOFF_MAX, watch.interval * 2 ** min(watch.failures - 1, 5))
        if watch.failures == 1:
            log.warning("node %s unreachable: %s; retrying with backoff", node, exc)
        down_for = time.time() - watch.down_since
        if down_for >= self.services.settings.alerts.node_down_after and not self._open_incident(
            node, "*"
        ):
            log.warning("node %s unreachable for %.0fs: %s", node, down_for, exc)
            self._record(node, "*", "NODE_DOWN", watch.down_since)
        return interval

    def _supervisord_cpu(self, client: Any) -> float | None:
        """CPU seconds supervisord has used, when it runs on this host (else None)."""
        if not client.local:
            return None
        try:
            proc = self._supervisord.get(client.name)
            if proc is None:
                import psutil

                proc = psutil.Process(int(client.call("getPID")))
                self._supervisord[client.name] = proc
            times = proc.cpu_times()
            return float(times.user + times.system)
        except Exception:  # another host's pid namespace, permissions, a restarted supervisord
            self._supervisord.pop(client.name, None)
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

    def _record(self, node: str, process: str, state: str, at: float | None = None) -> None:
        event = ProcessEvent(node, process, state, "health", stop=at or time.time())
        events.record(self.store, event)
        self.wake.set()

    def _open_incident(self, node: str, process: str) -> bool:
        with self.store.connect() as db:
            row = db.execute(
                "SELECT 1 FROM alert_incidents WHERE node=? AND process=? AND status='open'",
                (node, process),
            ).fetchone()
        return row is not None

    def _open_processes(self, node: str) -> set[str]:
        with self.store.connect() as db:
            rows = db.execute(
                "SELECT process FROM alert_incidents WHERE node=? AND status='open'", (node,)
            ).fetchall()
        return {r[0] for r in rows}

    def _housekeeping_loop(self) -> None:
        schedule = (
            digest.DigestSchedule(self.services) if self.services.settings.alerts.digest else None
        )
        while not self._stop.is_set():
            for node in self.watches:
                self.check_listener(node)
            if schedule is not None and schedule.due():
                schedule.run()
                self.wake.set()
            if time.time() - self._pruned > 3600:
                prune(self.store, self.services.settings.storage.retention)
                self.services.audit.prune(self.services.settings.storage.retention)
                self._pruned = time.time()
            self._stop.wait(HOUSEKEEPING)

    def check_listener(self, node: str) -> None:
        """Report a listener whose heartbeat stopped, and its return."""
        beat = self.store.last_heartbeat(HEARTBEAT_PREFIX + node)
        if beat is None:
            return  # this node never had a listener: the watcher is its normal mode
        silent = time.time() - beat["seen"] >= LISTENER_LIVE
        reported = self._open_incident(node, "listener")
        if silent and not reported:
            self._record(node, "listener", "LISTENER_SILENT", beat["seen"])
        elif reported and not silent:
            self._record(node, "listener", "LISTENER_BACK")


def prune(store: Any, retention: float) -> None:
    """Forget delivered alerts, closed incidents and handled events past `[storage] retention`
    (events are kept at least 8 days: the digest counts since the last one)."""
    now = time.time()
    cutoff, events_cutoff = now - retention, now - max(retention, 8 * 86400)
    with store.transaction() as db:
        db.execute(
            "DELETE FROM alert_outbox WHERE status IN ('sent','failed') AND created<?", (cutoff,)
        )
        db.execute("DELETE FROM alert_incidents WHERE status<>'open' AND last<?", (cutoff,))
        db.execute("DELETE FROM alert_events WHERE processed=1 AND at<?", (events_cutoff,))
        db.execute("DELETE FROM alert_rollups WHERE last<?", (cutoff,))
