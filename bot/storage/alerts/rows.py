"""Database rows → alert records (the only place that knows the column names' types).

Columns are named like the records' fields; only the columns stored in another form are
spelled out here.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from bot.alerts.records import EventRecord, Incident, OutboxRow, Pace, Rollup, Snooze
from bot.state import from_row

Row = Mapping[Any, Any]  # a RowMapping


def event(row: Row) -> EventRecord:
    return from_row(EventRecord, row)


def incident(row: Row) -> Incident:
    log = row["log"]  # a JSON list, NULL until the log tail was fetched
    return from_row(
        Incident,
        row,
        snoozed=bool(row["snoozed"]),
        log=None if log is None else list(json.loads(log)),
    )


def rollup(row: Row) -> Rollup:
    return from_row(Rollup, row)


def outbox(row: Row) -> OutboxRow:
    return from_row(
        OutboxRow,
        row,
        payload=json.loads(row["payload"]),
        claimed_by=row["claimed_by"] or "",
        claimed_at=row["claimed_at"] or 0.0,
    )


def pace(row: Row) -> Pace:
    return from_row(Pace, row)


def snooze(row: Row) -> Snooze:
    return from_row(Snooze, row)
