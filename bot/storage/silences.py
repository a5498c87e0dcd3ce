"""Queries of silences, their counted crashes, and deploys (tables in tables.py, 0005).

Every function runs in the caller's block (`db`); times are the database's clock, which the
caller reads once (`Store.now`) so that hosts with skewed clocks agree on what is in force.
Imported at the first use (the `/sup` verbs must not pay for SQLAlchemy).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, case, delete, insert, select, update

from bot.alerts.silence_records import Deploy, Silence, SilenceHit
from bot.state import from_row
from bot.storage.tables import deploys, silence_hits, silences
from bot.storage.upsert import insert_ignore, upsert

s_, h_, d_ = silences.c, silence_hits.c, deploys.c


def _silence(row: Mapping[Any, Any]) -> Silence:
    return from_row(Silence, row, summarized=bool(row["summarized"]))


def add(db: Connection, match: str, reason: str, by: str, start: float, until: float) -> Silence:
    values = {"match": match, "reason": reason, "by": by, "created": start, "until": until}
    new_id = db.execute(insert(silences).values(**values).returning(s_.id)).scalar_one()
    found = get(db, int(new_id))
    assert found is not None
    return found


def open_window(
    db: Connection, key: str, match: str, reason: str, start: float, until: float
) -> bool:
    """Open a [[silences]] slot unless some process already did; True when this one did."""
    row = {"match": match, "reason": reason, "by": "config", "created": start, "until": until}
    done = db.execute(insert_ignore(db, silences, {**row, "window": key}))
    return bool(done.rowcount)


def get(db: Connection, silence_id: int) -> Silence | None:
    row = db.execute(select(silences).where(s_.id == silence_id)).mappings().first()
    return None if row is None else _silence(row)


def active(db: Connection, now: float) -> list[Silence]:
    """Silences in force at `now`, the soonest to end first."""
    stmt = select(silences).where(s_.until > now, s_.created <= now).order_by(s_.until, s_.id)
    return [_silence(r) for r in db.execute(stmt).mappings()]


def end(db: Connection, silence_id: int, by: str, now: float) -> None:
    """End it now (by hand); its summary follows like at a natural end."""
    ended = case((s_.until > now, now), else_=s_.until)
    db.execute(update(silences).where(s_.id == silence_id).values(until=ended, ended_by=by))


def hit(db: Connection, silence_id: int, node: str, process: str, crashes: int) -> None:
    row = {"silence": silence_id, "node": node, "process": process, "crashes": crashes}
    more = {"crashes": h_.crashes + crashes}
    db.execute(upsert(db, silence_hits, row, ["silence", "node", "process"], values=more))


def ended(db: Connection, now: float) -> list[Silence]:
    """Silences over at `now` whose summaries are not queued yet (locked on PostgreSQL)."""
    stmt = select(silences).where(s_.summarized == 0, s_.until <= now).order_by(s_.id)
    if db.dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    return [_silence(r) for r in db.execute(stmt).mappings()]


def hits(db: Connection, silence_id: int) -> list[SilenceHit]:
    stmt = select(silence_hits).where(h_.silence == silence_id).order_by(h_.node, h_.process)
    return [from_row(SilenceHit, r) for r in db.execute(stmt).mappings()]


def mark_summarized(db: Connection, silence_id: int) -> None:
    db.execute(update(silences).where(s_.id == silence_id).values(summarized=1))


def add_deploy(db: Connection, what: str, version: str, by: str, actor: str, at: float) -> Deploy:
    values = {"what": what, "version": version, "by": by, "actor": actor, "at": at}
    new_id = int(db.execute(insert(deploys).values(**values).returning(d_.id)).scalar_one())
    return Deploy(new_id, what, version, by, actor, at)


def deploys_between(db: Connection, since: float, until: float, limit: int = 200) -> list[Deploy]:
    """Deploys recorded in [since, until], the newest first."""
    stmt = select(deploys).where(d_.at >= since, d_.at <= until)
    rows = db.execute(stmt.order_by(d_.at.desc(), d_.id.desc()).limit(limit)).mappings()
    return [from_row(Deploy, r) for r in rows]


def prune(db: Connection, cutoff: float) -> None:
    """Forget summarized silences that ended before `cutoff` (with their counts) and deploys
    older than it."""
    old = select(s_.id).where(s_.summarized == 1, s_.until < cutoff)
    db.execute(delete(silence_hits).where(h_.silence.in_(old)))
    db.execute(delete(silences).where(s_.summarized == 1, s_.until < cutoff))
    db.execute(delete(deploys).where(d_.at < cutoff))
