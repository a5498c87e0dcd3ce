"""Database rows → alert records (the only place that knows the column names' types)."""

from __future__ import annotations

import json
import sqlite3

from bot.alerts.records import EventRecord, Incident, OutboxRow, Pace, Rollup, Snooze


def event(row: sqlite3.Row) -> EventRecord:
    return EventRecord(
        id=row["id"],
        at=row["at"],
        node=row["node"],
        process=row["process"],
        state=row["state"],
        from_state=row["from_state"],
        pid=row["pid"],
        stop=row["stop"],
        exitstatus=row["exitstatus"],
        tries=row["tries"],
        source=row["source"],
        outcome=row["outcome"],
    )


def incident(row: sqlite3.Row) -> Incident:
    return Incident(
        id=row["id"],
        kind=row["kind"],
        node=row["node"],
        process=row["process"],
        channel=row["channel"],
        status=row["status"],
        opened=row["opened"],
        last=row["last"],
        closed=row["closed"],
        crashes=row["crashes"],
        state=row["state"],
        from_state=row["from_state"],
        exitstatus=row["exitstatus"],
        pid=row["pid"],
        tries=row["tries"],
        recovered_pid=row["recovered_pid"],
        rollup=row["rollup"],
        snoozed=bool(row["snoozed"]),
        ts=row["ts"],
        log=None if row["log"] is None else list(json.loads(row["log"])),
    )


def rollup(row: sqlite3.Row) -> Rollup:
    return Rollup(row["id"], row["channel"], row["opened"], row["last"], row["ts"])


def outbox(row: sqlite3.Row) -> OutboxRow:
    return OutboxRow(
        id=row["id"],
        channel=row["channel"],
        kind=row["kind"],
        ref=row["ref"],
        payload=json.loads(row["payload"]),
        attempts=row["attempts"],
        status=row["status"],
        claimed_by=row["claimed_by"] or "",
        claimed_at=row["claimed_at"] or 0.0,
        not_before=row["not_before"],
    )


def pace(row: sqlite3.Row) -> Pace:
    return Pace(row["tokens"], row["updated"], row["not_before"])


def snooze(row: sqlite3.Row) -> Snooze:
    return Snooze(
        row["node"], row["process"], row["until"], row["by"], row["created"], row["suppressed"]
    )
