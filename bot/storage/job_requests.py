"""Run-now requests (table job_requests): queued by whoever asks, served by the live runner.

A request is `pending` until a claimer takes it (`taken`, atomically: only one may), then
answered `started` (with the run's id) or `refused` (with why). Functions run in the caller's
block.
"""

from __future__ import annotations

from sqlalchemy import Connection, insert, select, update

from bot.state import from_row
from bot.storage.job_records import JobRequest
from bot.storage.tables import job_requests


def queue(
    db: Connection,
    job: str,
    trigger: str,
    actor: str,
    slot: float | None,
    now: float,
    node: str = "",
) -> int:
    row = {"job": job, "trigger": trigger, "actor": actor, "slot": slot, "requested": now}
    row["node"] = node
    return int(
        db.execute(insert(job_requests).values(**row).returning(job_requests.c.id)).scalar_one()
    )


def get(db: Connection, request_id: int) -> JobRequest | None:
    query = select(job_requests).where(job_requests.c.id == request_id)
    row = db.execute(query).mappings().first()
    return None if row is None else from_row(JobRequest, row)


def pending(db: Connection, node: str = "") -> list[JobRequest]:
    """The requests waiting for the scheduler ('') or for `node`'s agent."""
    waiting = (job_requests.c.state == "pending") & (job_requests.c.node == node)
    query = select(job_requests).where(waiting)
    rows = db.execute(query.order_by(job_requests.c.id)).mappings().all()
    return [from_row(JobRequest, r) for r in rows]


def take(db: Connection, request_id: int) -> bool:
    """pending → taken; False when another claimer took it first."""
    return _set_if_pending(db, request_id, state="taken") > 0


def refuse_pending(db: Connection, request_id: int, error: str) -> bool:
    """A request nobody can serve (its job is gone) is refused, unless already taken."""
    return _set_if_pending(db, request_id, state="refused", error=error) > 0


def answer(db: Connection, request_id: int, state: str, run_id: int, error: str) -> None:
    values = {"state": state, "run_id": run_id or None, "error": error}
    db.execute(update(job_requests).where(job_requests.c.id == request_id).values(**values))


def _set_if_pending(db: Connection, request_id: int, **values: str) -> int:
    mine = (job_requests.c.id == request_id) & (job_requests.c.state == "pending")
    return int(db.execute(update(job_requests).where(mine).values(**values)).rowcount)
