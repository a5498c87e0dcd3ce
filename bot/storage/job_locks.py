"""Job locks and scheduled slots as unique keys of job_runs, so no two hosts ever both hold one.

A run of an exclusive job is inserted with `lock_key = job` (NULL again once it ends: every
UPDATE that ends a run clears it), a run of a scheduled slot with `slot_key = "job@slot"` (kept:
a slot runs once). Both are UNIQUE (migration 0003): a second claimer's INSERT fails, inside a
SAVEPOINT so the claimer's transaction goes on, and the claim is "busy" / "slot taken". The
runner's lease (`lease_until`, database time) is how another host judges the run; the
liveness policy is bot/scheduler/locks.py's. Functions run in the caller's block.
"""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import Connection, RowMapping, exists, insert, select, update
from sqlalchemy.exc import IntegrityError

from bot.state import from_row
from bot.storage.job_records import Holder, JobRun, Owner
from bot.storage.tables import job_runs


def slot_key(job: str, slot: float) -> str:
    """`job` is the job's name, or `name@node` for a job that runs on each node (on = "each")."""
    return f"{job}@{slot}"


def start_run(
    db: Connection,
    job: str,
    trigger: str,
    actor: str,
    slot: float | None,
    exclusive: bool,
    owner: Owner,
    started: float,
    lease_until: float,
    node: str = "",
    key: str = "",
) -> int:
    """A new `running` run holding the job's lock (exclusive) and its slot; 0 when another
    run holds either key. `key` names lock and slot (default: the job; `job@node` for a job
    that runs on each node)."""
    key = key or job
    row = {
        "job": job,
        "status": "running",
        "trigger": trigger,
        "actor": actor,
        "scheduled": slot,
        "started": started,
        "runner_pid": owner.pid,
        "runner_started": owner.started,
        "host": owner.host,
        "lock_key": key if exclusive else None,
        "slot_key": None if slot is None else slot_key(key, slot),
        "lease_until": lease_until,
        "node": node,
    }
    try:
        with db.begin_nested():
            found = db.execute(insert(job_runs).values(**row).returning(job_runs.c.id))
            return int(found.scalar_one())
    except IntegrityError:
        return 0


def record_missed_slot(
    db: Connection, job: str, key: str, node: str, slot: float, error: str, notify: bool
) -> bool:
    """One scheduled slot nobody could run, as `missed` holding the slot's key (so no late
    agent runs it too); False when the slot was already run or recorded."""
    row = {
        "job": job,
        "status": "missed",
        "trigger": "schedule",
        "scheduled": slot,
        "started": slot,
        "ended": slot,
        "error": error,
        "notify_pending": int(notify),
        "slot_key": slot_key(key, slot),
        "node": node,
    }
    try:
        with db.begin_nested():
            db.execute(insert(job_runs).values(**row))
            return True
    except IntegrityError:
        return False


def slot_taken(db: Connection, job: str, slot: float) -> bool:
    return bool(
        db.execute(select(exists().where(job_runs.c.slot_key == slot_key(job, slot)))).scalar()
    )


def running(db: Connection, job: str | None = None, node: str | None = None) -> list[Holder]:
    """The runs still `running` (of `job`, on `node`), oldest first."""
    query = select(job_runs).where(job_runs.c.status == "running").order_by(job_runs.c.id)
    if job is not None:
        query = query.where(job_runs.c.job == job)
    if node is not None:
        query = query.where(job_runs.c.node == node)
    return [_holder(r) for r in db.execute(query).mappings().all()]


def holder(db: Connection, key: str) -> Holder | None:
    """The run holding the lock key (a job's name, or `job@node`), if any."""
    row = db.execute(select(job_runs).where(job_runs.c.lock_key == key)).mappings().first()
    return None if row is None else _holder(row)


def interrupt(db: Connection, run_id: int, ended: float, output: str, error: str) -> bool:
    """Close a run nobody supervises any more as `interrupted` (freeing its lock), once."""
    values = {
        "status": "interrupted",
        "ended": ended,
        "output": output,
        "error": error,
        "notify_pending": 1,
        "lock_key": None,
    }
    mine = (job_runs.c.id == run_id) & (job_runs.c.status == "running")
    return bool(db.execute(update(job_runs).where(mine).values(**values)).rowcount)


def renew(db: Connection, run_ids: Collection[int], lease_until: float) -> int:
    """Extend the lease of these runs while they are still running."""
    if not run_ids:
        return 0
    live = job_runs.c.id.in_(list(run_ids)) & (job_runs.c.status == "running")
    found = db.execute(update(job_runs).where(live).values(lease_until=lease_until))
    return int(found.rowcount)


def _holder(row: RowMapping) -> Holder:
    owner = Owner(str(row["host"]), int(row["runner_pid"]), float(row["runner_started"]))
    return Holder(from_row(JobRun, row), owner, str(row["log_path"]), float(row["lease_until"]))
