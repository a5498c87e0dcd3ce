"""The watcher: polls a node without a live listener and turns what changed into events.

A process that crashed and was restarted between two polls shows only as a new pid and a new
stop time (supervisord resets the exit status at spawn); those are compared, not only the state
name, and supervisord's log says whether that exit was a crash (see exitlog.py). Stops through
supbot are marked as expected; without the log a supervisorctl restart looks like a crash.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.alerts.records import ProcessEvent
from bot.domain import ProcessInfo

BASE_INTERVAL = 2.0
CPU_SHARE = 0.08  # keep supervisord's time serving us under 10% of a core (8% aimed)
STALE = 600.0  # at start-up, older crashes are not news


def poll_interval(call_seconds: float, base: float = BASE_INTERVAL) -> float:
    """`call_seconds`: supervisord's CPU for one poll when it runs on this host, else the
    call's wall time (an upper bound: supervisord is single-threaded)."""
    return max(base, call_seconds / CPU_SHARE)


RUNNING_LIKE = ("RUNNING", "STARTING")


def _event(p: ProcessInfo, state: str, prev: ProcessInfo | None, **kw: object) -> ProcessEvent:
    return ProcessEvent(
        node=p.node,
        process=p.full_name,
        state=state,
        source="watcher",
        from_state=str(kw.pop("from_state", prev.state if prev else "")),
        stop=float(p.stop),
        **kw,  # type: ignore[arg-type]
    )


def changes(
    prev: ProcessInfo | None, cur: ProcessInfo, exitcodes: Iterable[int], incident_open: bool
) -> list[ProcessEvent]:
    """Events between two snapshots of one process (`prev` None: first sight)."""
    codes = set(exitcodes)
    unexpected = cur.exitstatus not in codes
    out: list[ProcessEvent] = []
    state = cur.state
    fresh = prev is None and cur.now - cur.stop < STALE
    if state in ("BACKOFF", "FATAL"):
        if fresh or (prev and (prev.state != state or prev.stop != cur.stop)):
            out.append(_event(cur, state, prev))
    elif state == "EXITED":
        if unexpected and (fresh or (prev and (prev.state != "EXITED" or prev.stop != cur.stop))):
            pid = prev.pid if prev and prev.state in RUNNING_LIKE else 0
            out.append(
                _event(cur, "EXITED", prev, pid=pid, exitstatus=cur.exitstatus, expected=False)
            )
    elif state in RUNNING_LIKE:
        restarted = (
            prev is not None
            and prev.state in RUNNING_LIKE
            and prev.pid
            and cur.pid != prev.pid
            and cur.stop != prev.stop
        )
        if restarted and prev is not None:
            # The exit status is gone (reset at spawn): `exitstatus=None` asks for a verdict
            # from supervisord's log before this is recorded as a crash.
            out.append(
                _event(cur, "EXITED", prev, pid=prev.pid, from_state="RUNNING", expected=False)
            )
        moved = prev is None or prev.state != "RUNNING" or prev.pid != cur.pid
        if state == "RUNNING" and moved and (prev is not None or incident_open):
            out.append(_event(cur, "RUNNING", prev, pid=cur.pid))
    elif state == "STOPPED" and prev is not None and prev.state != "STOPPED":
        out.append(_event(cur, "STOPPED", prev))
    return out


class NodeWatch:
    """The last snapshot of one node, and the interval its cost allows."""

    def __init__(self, node: str) -> None:
        self.node = node
        self.snapshot: dict[str, ProcessInfo] = {}
        self.interval = BASE_INTERVAL
        self.seeded = False
        self.lost_seen = 0  # the listener's count of discarded events, at the last poll
        self.down_since: float | None = 0.0  # 0: unknown yet (a down incident may be open)
        self.failures = 0  # polls failed in a row (the node unreachable)

    def observe(
        self,
        processes: Iterable[ProcessInfo],
        exitcodes: dict[str, Iterable[int]],
        open_incidents: set[str],
        call_seconds: float,
    ) -> list[ProcessEvent]:
        out: list[ProcessEvent] = []
        current: dict[str, ProcessInfo] = {}
        for p in processes:
            current[p.full_name] = p
            prev = self.snapshot.get(p.full_name) if self.seeded else None
            codes = exitcodes.get(p.full_name, (0,))
            out += changes(prev, p, codes, p.full_name in open_incidents)
        self.snapshot, self.seeded = current, True
        self.interval = poll_interval(call_seconds)
        return out
