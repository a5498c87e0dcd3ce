"""Process state events: which ones are recorded, and the "expected stop" marks.

A crash is EXITED with expected=0, BACKOFF, FATAL, or (seen only by the watcher) a new pid whose
previous exit was unexpected. Both detectors record here; the incident engine de-duplicates on
(node, process, pid, stop time), so a node watched both ways never alerts twice.
"""

from __future__ import annotations

import time

from bot.alerts.records import ProcessEvent
from bot.storage.alerts.store import AlertStore

CRASH_STATES = frozenset({"EXITED", "BACKOFF", "FATAL"})
# States the engine acts on; the rest (STARTING, STOPPING, UNKNOWN) are not recorded.
RECORDED = CRASH_STATES | {"RUNNING", "STOPPED"}
# Node-level events from the health checks.
NODE_STATES = frozenset({"NODE_DOWN", "NODE_UP", "LISTENER_SILENT", "LISTENER_BACK"})
# A [[checks]] limit or probe failed / passes again (bot/checks/loop.py); the figure that
# tripped it travels in `from_state`.
CHECK_STATES = frozenset({"UNHEALTHY", "HEALTHY"})
# A supbot stop/restart can take this long before its audit entry closes the mark.
EXPECTED_OPEN = 600.0
EXPECTED_GRACE = 5.0  # events still in flight when the action finished
EXPECTED_KEPT = 3600.0  # how long an ended mark is kept


def worth_recording(event: ProcessEvent) -> bool:
    """Only crash, RUNNING, STOPPED and node events are kept."""
    if event.state not in RECORDED | NODE_STATES | CHECK_STATES:
        return False
    return event.state != "EXITED" or event.crash


def record(alerts: AlertStore, event: ProcessEvent) -> bool:
    """Record one event (ignored when its key is known); True when a row was written."""
    return worth_recording(event) and alerts.record_event(event)


def mark_expected(
    alerts: AlertStore, node: str, process: str, seconds: float = EXPECTED_OPEN
) -> None:
    """A stop/restart/signal requested through supbot: exits in this window are not crashes."""
    now = time.time()
    alerts.mark_expected(node, process, now - 1, now + seconds)


def close_expected(alerts: AlertStore, node: str, process: str) -> None:
    """The action finished: keep the mark a little longer for events still in flight."""
    now = time.time()
    alerts.close_expected(node, process, now + EXPECTED_GRACE, now - EXPECTED_KEPT)
