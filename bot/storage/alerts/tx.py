"""What the alerts do inside one transaction: handle a batch of events, claim outbox heads,
change a snooze together with the message that shows it."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, case, func, insert, select, update

from bot.alerts.records import EventRecord, Incident, OutboxRow, Pace, Snooze
from bot.storage.alerts import rows
from bot.storage.tables import (
    alert_events,
    alert_expected,
    alert_incidents,
    alert_outbox,
    alert_pace,
    alert_pages,
    alert_rollups,
    alert_snoozes,
)
from bot.storage.upsert import upsert

if TYPE_CHECKING:
    from bot.state import Store

# Only the incident or roll-up message to sync: the message is rendered from the latest state.
SYNCED = ("incident", "rollup")
TS_TABLES: dict[str, Table] = {"incident": alert_incidents, "rollup": alert_rollups}
UNSENT = ("pending", "claimed")

ev_, inc_, out_ = alert_events.c, alert_incidents.c, alert_outbox.c


class AlertTx:
    """Operations on a connection inside a transaction (the caller's block commits)."""

    def __init__(self, db: Connection, store: Store) -> None:
        self.db, self.store = db, store
        self._notified: set[str] = set()

    def _first(self, stmt: Any) -> Mapping[Any, Any] | None:
        found: Mapping[Any, Any] | None = self.db.execute(stmt).mappings().first()
        return found

    def _exists(self, table: Table, *where: Any) -> bool:
        return (
            self.db.execute(select(1).select_from(table).where(*where).limit(1)).first() is not None
        )

    def notify(self, topic: str) -> None:
        """Wake the waiters of `topic` at commit (once per transaction)."""
        if topic not in self._notified:
            self._notified.add(topic)
            self.store.notify(self.db, topic)

    def now(self) -> float:
        """The database's clock: what claim expiries and pacing compare between hosts."""
        return self.store.now(self.db)

    # --- events ----------------------------------------------------------------------

    def pending_events(self, limit: int) -> list[EventRecord]:
        stmt = select(alert_events).where(ev_.processed == 0).order_by(ev_.id).limit(limit)
        return [rows.event(r) for r in self.db.execute(stmt).mappings()]

    def mark_processed(self, event_id: int, outcome: str) -> None:
        stmt = update(alert_events).where(ev_.id == event_id)
        self.db.execute(stmt.values(processed=1, outcome=outcome))

    def _handled(self, node: str, process: str, since: float) -> list[Any]:
        return [
            ev_.processed == 1,
            ev_.node == node,
            ev_.process == process,
            ev_.outcome.not_in(("", "ignored")),
            ev_.at > since,
        ]

    def handled_exit(self, node: str, process: str, pid: int, since: float) -> bool:
        """An exit (or start failure) of this pid was already handled."""
        where = self._handled(node, process, since)
        return self._exists(
            alert_events, *where, ev_.pid == pid, ev_.state.in_(("EXITED", "BACKOFF"))
        )

    def handled_near(self, ev: EventRecord, since: float, start: float, end: float) -> bool:
        """The other detector's record of the same state change, stopped in [start, end]."""
        where = self._handled(ev.node, ev.process, since)
        where += [ev_.state == ev.state, ev_.source != ev.source, ev_.stop.between(start, end)]
        if ev.pid:  # a detector that knows no pid matches any
            where.append(ev_.pid == 0)
        return self._exists(alert_events, *where)

    def expected_at(self, node: str, process: str, at: float) -> bool:
        c = alert_expected.c
        where = (c.node == node, c.process == process, c.since <= at, c.until >= at)
        return self._exists(alert_expected, *where)

    # --- incidents -------------------------------------------------------------------

    def latest_incident(self, node: str, process: str) -> Incident | None:
        stmt = select(alert_incidents).where(inc_.node == node, inc_.process == process)
        row = self._first(stmt.order_by(inc_.id.desc()).limit(1))
        return None if row is None else rows.incident(row)

    def open_incident(
        self, kind: str, channel: str, ev: EventRecord, crashes: int, snoozed: bool
    ) -> int:
        values = {
            "kind": kind,
            "node": ev.node,
            "process": ev.process,
            "channel": channel,
            "opened": ev.stop,
            "last": ev.stop,
            "crashes": crashes,
            "state": ev.state,
            "from_state": ev.from_state,
            "exitstatus": ev.exitstatus,
            "pid": ev.pid,
            "tries": ev.tries,
            "snoozed": int(snoozed),
        }
        stmt = insert(alert_incidents).values(**values).returning(inc_.id)
        return int(self.db.execute(stmt).scalar_one())

    def repeat_incident(self, incident: Incident, ev: EventRecord, crashes: int) -> None:
        """Another crash: the incident is open (again) and shows the latest state."""
        self.db.execute(
            update(alert_incidents)
            .where(inc_.id == incident.id)
            .values(
                status="open",
                closed=None,
                last=ev.stop,
                crashes=inc_.crashes + crashes,
                state=ev.state,
                from_state=ev.from_state,
                exitstatus=func.coalesce(ev.exitstatus, inc_.exitstatus),
                pid=ev.pid or incident.pid,
                tries=ev.tries,
            )
        )

    def _set_incident(self, incident_id: int, **values: Any) -> None:
        self.db.execute(update(alert_incidents).where(inc_.id == incident_id).values(**values))

    def unhide_incident(self, incident_id: int) -> None:
        self._set_incident(incident_id, snoozed=0)

    def close_incident(self, incident_id: int, status: str, at: float, recovered_pid: int) -> None:
        self._set_incident(incident_id, status=status, closed=at, recovered_pid=recovered_pid)

    def posted_open_incident(self, node: str, process: str) -> Incident | None:
        """The open incident of a process whose message is in the channel."""
        stmt = select(alert_incidents).where(
            inc_.node == node, inc_.process == process, inc_.status == "open", inc_.ts.is_not(None)
        )
        row = self._first(stmt.order_by(inc_.id.desc()).limit(1))
        return None if row is None else rows.incident(row)

    def incident(self, incident_id: int) -> Incident | None:
        row = self._first(select(alert_incidents).where(inc_.id == incident_id))
        return None if row is None else rows.incident(row)

    def set_owner(self, incident_id: int, by: str | None, at: float | None) -> None:
        """Ack (`by` set) or unack (None)."""
        self._set_incident(incident_id, acked_by=by, acked_at=at)

    def resolve_incident(self, incident_id: int, at: float, note: str) -> None:
        self._set_incident(incident_id, status="resolved", closed=at, note=note)

    def to_escalate(self, opened_before: float, level: int) -> list[Incident]:
        """Open, posted, unacked incidents older than the level's delay, not escalated to it."""
        stmt = select(alert_incidents).where(
            inc_.status == "open",
            inc_.acked_by.is_(None),
            inc_.ts.is_not(None),
            inc_.snoozed == 0,
            inc_.opened <= opened_before,
            inc_.escalated < level,
        )
        return [rows.incident(r) for r in self.db.execute(stmt.order_by(inc_.id)).mappings()]

    def mark_escalated(self, incident_id: int, level: int) -> None:
        higher = case((inc_.escalated > level, inc_.escalated), else_=level)
        self._set_incident(incident_id, escalated=higher)

    def page_state(self, incident_id: int, provider: str, target: str) -> tuple[str, int] | None:
        """(state, triggers so far) of what a pager was told of the incident; None: nothing."""
        c = alert_pages.c
        mine = (c.incident == incident_id, c.provider == provider, c.target == target)
        row = self.db.execute(select(c.state, c.round).where(*mine)).first()
        return None if row is None else (str(row[0]), int(row[1]))

    def set_page_state(
        self, incident_id: int, provider: str, target: str, state: str, round_: int
    ) -> None:
        row = {"incident": incident_id, "provider": provider, "target": target}
        row |= {"state": state, "round": round_, "updated": time.time()}
        keys = ["incident", "provider", "target"]
        self.db.execute(upsert(self.db, alert_pages, row, keys, ["state", "round", "updated"]))

    def set_ts(self, kind: str, ref: int, ts: str) -> None:
        """The posted message of an incident or roll-up (`kind`), for later edits."""
        table = TS_TABLES[kind]
        self.db.execute(update(table).where(table.c.id == ref).values(ts=ts))

    # --- storm roll-ups --------------------------------------------------------------

    def own_messages(self, channel: str, since: float, other_than: int) -> int:
        """Incidents opened since `since` in the channel with a message of their own."""
        stmt = select(func.count()).where(
            inc_.channel == channel,
            inc_.opened > since,
            inc_.rollup.is_(None),
            inc_.snoozed == 0,
            inc_.id != other_than,
        )
        return int(self.db.execute(stmt).scalar_one())

    def live_rollup(self, channel: str, since: float) -> int | None:
        c = alert_rollups.c
        stmt = select(c.id).where(c.channel == channel, c.last > since)
        found = self.db.execute(stmt.order_by(c.id.desc()).limit(1)).scalar()
        return None if found is None else int(found)

    def new_rollup(self, channel: str, now: float) -> int:
        stmt = insert(alert_rollups).values(channel=channel, opened=now, last=now)
        return int(self.db.execute(stmt.returning(alert_rollups.c.id)).scalar_one())

    def touch_rollup(self, rollup_id: int, now: float) -> None:
        self.db.execute(
            update(alert_rollups).where(alert_rollups.c.id == rollup_id).values(last=now)
        )

    def attach_rollup(self, incident_id: int, rollup_id: int) -> None:
        self._set_incident(incident_id, rollup=rollup_id)

    # --- outbox ----------------------------------------------------------------------

    def enqueue(
        self, channel: str, kind: str, ref: int = 0, payload: dict[str, Any] | None = None
    ) -> int:
        """Add a row. A pending `incident`/`rollup` sync for the same ref already covers the
        change: the message is rendered from the latest state when it is sent."""
        if kind in SYNCED:
            stmt = select(out_.id).where(
                out_.kind == kind, out_.ref == ref, out_.status == "pending"
            )
            found = self.db.execute(stmt.limit(1)).scalar()
            if found is not None:
                return int(found)
        values = {
            "channel": channel,
            "kind": kind,
            "ref": ref,
            "payload": json.dumps(payload or {}),
            "created": time.time(),
        }
        row_id = self.db.execute(insert(alert_outbox).values(**values).returning(out_.id))
        self.notify("outbox")
        return int(row_id.scalar_one())

    def queued(self, kind: str, ref: int, channel: str) -> bool:
        """A row of this kind and ref was ever queued for the channel (sent or not)."""
        return self._exists(
            alert_outbox, out_.kind == kind, out_.ref == ref, out_.channel == channel
        )

    def pending_thread(self, ref: int) -> OutboxRow | None:
        stmt = select(alert_outbox).where(
            out_.kind == "thread", out_.ref == ref, out_.status == "pending"
        )
        row = self._first(stmt.order_by(out_.id).limit(1))
        return None if row is None else rows.outbox(row)

    def update_payload(self, row_id: int, payload: dict[str, Any]) -> None:
        stmt = update(alert_outbox).where(out_.id == row_id)
        self.db.execute(stmt.values(payload=json.dumps(payload)))

    def outbox_heads(self) -> list[OutboxRow]:
        """The oldest unsent row of every channel (rows of one channel go out in order). On
        PostgreSQL each head is row-locked until the block ends; a head another claimer holds
        is skipped (its channel is that claimer's for now)."""
        heads = select(func.min(out_.id)).where(out_.status.in_(UNSENT)).group_by(out_.channel)
        # The status again: a head sent since this statement's snapshot is re-read once
        # locked, and must not be claimed.
        stmt = select(alert_outbox).where(out_.id.in_(heads), out_.status.in_(UNSENT))
        if self.db.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True, of=alert_outbox)
        return [rows.outbox(r) for r in self.db.execute(stmt.order_by(out_.id)).mappings()]

    def claim(self, row_id: int, owner: str, now: float) -> None:
        stmt = update(alert_outbox).where(out_.id == row_id)
        self.db.execute(stmt.values(status="claimed", claimed_by=owner, claimed_at=now))

    def sent(self, row_id: int) -> None:
        stmt = update(alert_outbox).where(out_.id == row_id)
        self.db.execute(stmt.values(status="sent", sent=self.now(), error=""))

    def pace(self, channel: str) -> Pace | None:
        """The channel's token bucket (locked until the block ends on PostgreSQL: a claimer
        and a 429 do not overwrite each other)."""
        stmt = select(alert_pace).where(alert_pace.c.channel == channel)
        if self.db.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        row = self._first(stmt)
        return None if row is None else rows.pace(row)

    def spend_token(self, channel: str, tokens: float, now: float) -> None:
        """The bucket after taking one token: `tokens` left at `now`."""
        row = {"channel": channel, "tokens": tokens, "updated": now, "not_before": 0.0}
        self.db.execute(upsert(self.db, alert_pace, row, ["channel"], ["tokens", "updated"]))

    # --- snoozes ---------------------------------------------------------------------

    def snoozed(self, node: str, process: str) -> bool:
        c = alert_snoozes.c
        return self._exists(
            alert_snoozes, c.node == node, c.process == process, c.until > time.time()
        )

    def count_suppressed(self, node: str, process: str, n: int) -> None:
        c = alert_snoozes.c
        stmt = update(alert_snoozes).where(c.node == node, c.process == process)
        self.db.execute(stmt.values(suppressed=c.suppressed + n))

    def snooze_of(self, node: str, process: str) -> Snooze | None:
        """The snooze row of a process, in force or not."""
        c = alert_snoozes.c
        row = self._first(select(alert_snoozes).where(c.node == node, c.process == process))
        return None if row is None else rows.snooze(row)

    def put_snooze(self, node: str, process: str, until: float, by: str, now: float) -> None:
        """Snooze (again) until `until`; the suppressed count carries over while in force."""
        c = alert_snoozes.c
        row = {"node": node, "process": process, "until": until, "by": by, "created": now}
        kept = case((c.until > now, c.suppressed), else_=0)
        stmt = upsert(self.db, alert_snoozes, row, ["node", "process"], values={"suppressed": kept})
        self.db.execute(stmt)

    def delete_snooze(self, node: str, process: str) -> None:
        c = alert_snoozes.c
        self.db.execute(alert_snoozes.delete().where(c.node == node, c.process == process))
