"""Incidents, not messages: events in, incident rows and outbox rows out.

One incident per process trouble. Repeats bump its counter (and go into its thread); BACKOFF
retries only change the row, so retries ending in FATAL are one edit; RUNNING recovers it; a
crash within REOPEN of a recovery reopens the same incident (flapping). Beyond the channel's
budget new incidents join a storm roll-up instead of getting a message each.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from bot.alerts import events
from bot.alerts.pagers import Pager
from bot.alerts.records import EventRecord, Incident
from bot.alerts.routing import KIND_OF_STATE, Router, Wants, everything
from bot.alerts.silencing import Silencing
from bot.storage.alerts.store import AlertStore

if TYPE_CHECKING:
    from bot.storage.alerts.tx import AlertTx

REOPEN = 600.0  # a crash this soon after a recovery continues the incident (flapping)
DEDUP_WINDOW = 3.0  # listener and watcher stop times of one exit differ by up to ~2 s
STORM_WINDOW = 60.0
STORM_THRESHOLD = 5  # own messages per channel per STORM_WINDOW; beyond: the roll-up
FLAPPING = 3  # crashes in one incident that make it "flapping"


class IncidentEngine:
    """Turns recorded events into incidents and outbox rows, exactly once (each batch is one
    write transaction, so two processes never handle the same event)."""

    def __init__(
        self,
        alerts: AlertStore,
        route: Router,
        wants: Wants = everything,
        silencing: Silencing | None = None,
        pager: Pager | None = None,
    ) -> None:
        self.alerts, self.route, self.wants = alerts, route, wants
        self.silencing = silencing or Silencing()
        self.pager = pager

    def process_pending(self, limit: int = 500) -> int:
        with self.alerts.transaction() as tx:
            pending = tx.pending_events(limit)
            if pending:
                self.silencing.load(tx.db, tx.now())
            for ev in pending:
                tx.mark_processed(ev.id, self._apply(tx, ev))
        return len(pending)

    # --- one event ---------------------------------------------------------------------

    def _apply(self, tx: AlertTx, ev: EventRecord) -> str:
        state = ev.state
        if state in events.CRASH_STATES:
            if self._duplicate(tx, ev):
                return "duplicate"
            if state == "EXITED" and tx.expected_at(ev.node, ev.process, ev.stop):
                return "expected stop"
            return self._crash(tx, ev)
        if state in events.CHECK_STATES:
            return self._check(tx, ev)
        if state in ("RUNNING", "STOPPED") and self._check_open(tx, ev):
            return "check incident"  # a check's restart: only its HEALTHY closes it
        if state in ("RUNNING", "NODE_UP", "LISTENER_BACK"):
            return self._close(tx, ev, "recovered")
        if state == "STOPPED":
            return self._close(tx, ev, "stopped")
        if state in ("NODE_DOWN", "LISTENER_SILENT"):
            if self._current(tx, ev.node, ev.process, open_only=True):
                return "already open"
            return self._crash(tx, ev)
        return "ignored"

    def _check(self, tx: AlertTx, ev: EventRecord) -> str:
        """A [[checks]] breach opens an incident (unless one is open); HEALTHY closes it."""
        inc = self._current(tx, ev.node, ev.process, open_only=True)
        if ev.state == "UNHEALTHY":
            return "already open" if inc else self._crash(tx, ev)
        if inc is None or inc.state != "UNHEALTHY":
            return "ignored"
        return self._close(tx, ev, "recovered")

    def _check_open(self, tx: AlertTx, ev: EventRecord) -> bool:
        inc = self._current(tx, ev.node, ev.process, open_only=True)
        return inc is not None and inc.state == "UNHEALTHY"

    def _duplicate(self, tx: AlertTx, ev: EventRecord) -> bool:
        """The same exit seen by the other detector (or delivered twice)."""
        since = ev.at - 3600
        if ev.pid and tx.handled_exit(ev.node, ev.process, ev.pid, since):
            return True
        if ev.state == "FATAL":
            inc = self._current(tx, ev.node, ev.process, open_only=True)
            return bool(inc and inc.state == "FATAL")
        return tx.handled_near(ev, since, ev.stop - DEDUP_WINDOW, ev.stop + DEDUP_WINDOW)

    def _current(
        self, tx: AlertTx, node: str, process: str, open_only: bool = False
    ) -> Incident | None:
        """The process's open incident, or (unless `open_only`) one closed within REOPEN."""
        inc = tx.latest_incident(node, process)
        if inc is None or inc.status == "open":
            return inc
        if open_only or time.time() - (inc.closed or 0) > REOPEN:
            return None
        return inc

    def _crash(self, tx: AlertTx, ev: EventRecord) -> str:
        node, process, state = ev.node, ev.process, ev.state
        counts = 1 if state in ("EXITED", "BACKOFF") else 0
        muted = self._muted(tx, ev, counts or 1)
        inc = self._current(tx, node, process)
        if inc is None:
            return self._open(tx, ev, max(counts, 1), muted)
        reopened = inc.status != "open"
        tx.repeat_incident(inc, ev, counts)
        if muted:
            return muted
        if reopened or inc.snoozed:  # shown again (or at last): the pagers hear of it
            self._page(tx, inc, "trigger")
        if inc.snoozed:
            # opened while snoozed, so never shown: the first crash after the snooze posts it
            tx.unhide_incident(inc.id)
            tx.enqueue(inc.channel, "incident", inc.id)
            return "opened"
        if inc.rollup:
            tx.enqueue(inc.channel, "rollup", inc.rollup)
            return "rolled up"
        if state == "BACKOFF" and not reopened:
            return "counted"  # retries: the FATAL or RUNNING that ends them is the one edit
        tx.enqueue(inc.channel, "incident", inc.id)
        if state == "EXITED" or reopened:
            self._thread_reply(tx, inc, ev)
        return "repeat"

    def _muted(self, tx: AlertTx, ev: EventRecord, crashes: int) -> str:
        """Why this crash is counted but not posted ("" when it is posted): a snooze, a
        silence (both count it), or its channel's `alert_on` leaving its kind out."""
        node, process = ev.node, ev.process
        snoozed = tx.snoozed(node, process)
        if snoozed:
            tx.count_suppressed(node, process, crashes)
        if self.silencing.hit(tx.db, node, process, crashes) is not None:
            return "silenced"
        if snoozed:
            return "snoozed"
        if not self.wants(node, process, KIND_OF_STATE.get(ev.state, "crash")):
            return "filtered"
        return ""

    def _open(self, tx: AlertTx, ev: EventRecord, crashes: int, muted: str) -> str:
        channel = self.route(ev.node, ev.process)
        if channel is None:
            return "no channel"
        kind = {"NODE_DOWN": "node", "LISTENER_SILENT": "listener"}.get(ev.state, "process")
        incident = tx.open_incident(kind, channel, ev, crashes, bool(muted))
        if muted:
            return muted
        opened = tx.incident(incident)
        assert opened is not None  # inserted above, in this transaction
        self._page(tx, opened, "trigger")
        rollup = self._storm_rollup(tx, channel, incident)
        if rollup:
            tx.enqueue(channel, "rollup", rollup)
            return "rolled up"
        tx.enqueue(channel, "incident", incident)
        return "opened"

    def _page(self, tx: AlertTx, inc: Incident, action: str) -> None:
        if self.pager is not None:
            self.pager.tell(tx, inc, action)

    def _thread_reply(self, tx: AlertTx, inc: Incident, ev: EventRecord) -> None:
        """One reply per repeat; repeats while a reply waits to be sent join that reply."""
        waiting = tx.pending_thread(inc.id)
        if waiting is not None:
            payload = dict(waiting.payload)
            payload["count"] = payload.get("count", 1) + 1
            payload.update(last=ev.stop, exitstatus=ev.exitstatus, state=ev.state)
            tx.update_payload(waiting.id, payload)
            return
        reply = {
            "count": 1,
            "first": ev.stop,
            "last": ev.stop,
            "exitstatus": ev.exitstatus,
            "state": ev.state,
            "pid": ev.pid,
        }
        tx.enqueue(inc.channel, "thread", inc.id, reply)

    def _storm_rollup(self, tx: AlertTx, channel: str, incident: int) -> int | None:
        """Past the budget, attach the incident to the channel's current roll-up."""
        since = time.time() - STORM_WINDOW
        if tx.own_messages(channel, since, incident) < STORM_THRESHOLD:
            return None
        now = time.time()
        rollup = tx.live_rollup(channel, since)
        if rollup is None:
            rollup = tx.new_rollup(channel, now)
        else:
            tx.touch_rollup(rollup, now)
        tx.attach_rollup(incident, rollup)
        return rollup

    def _close(self, tx: AlertTx, ev: EventRecord, status: str) -> str:
        inc = self._current(tx, ev.node, ev.process, open_only=True)
        if inc is None:
            return "ignored"
        tx.close_incident(inc.id, status, ev.stop, ev.pid)
        if inc.snoozed:
            return status
        self._page(tx, inc, "resolve")
        if inc.rollup:
            tx.enqueue(inc.channel, "rollup", inc.rollup)
        else:
            tx.enqueue(inc.channel, "incident", inc.id)
        return status
