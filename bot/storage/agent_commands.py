"""Commands addressed to a node's agent (table command_runs): queued by the bot, taken by one
agent of that node (atomically: pending → running), their output streamed into the row.
Functions run in the caller's block."""

from __future__ import annotations

import json
from collections.abc import Collection

from sqlalchemy import Connection, RowMapping, delete, insert, select, update

from bot.agent.records import CommandRun
from bot.state import from_row
from bot.storage.tables import command_runs

c = command_runs.c


def queue(
    db: Connection, node: str, command: str, args: tuple[str, ...], actor: str, now: float
) -> int:
    row = {"node": node, "command": command, "args": json.dumps(list(args)), "actor": actor}
    found = db.execute(insert(command_runs).values(**row, requested=now).returning(c.id))
    return int(found.scalar_one())


def get(db: Connection, run_id: int) -> CommandRun | None:
    row = db.execute(select(command_runs).where(c.id == run_id)).mappings().first()
    return None if row is None else _run(row)


def pending(db: Connection, node: str) -> list[CommandRun]:
    query = select(command_runs).where((c.node == node) & (c.state == "pending")).order_by(c.id)
    return [_run(r) for r in db.execute(query).mappings().all()]


def take(db: Connection, run_id: int, agent: str, started: float, lease_until: float) -> bool:
    """pending → running for this agent; False when another agent (or a cancel) was first."""
    values = {"state": "running", "agent": agent, "started": started, "lease_until": lease_until}
    return _move(db, run_id, ("pending",), values)


def set_output(db: Connection, run_id: int, output: str) -> None:
    mine = (c.id == run_id) & (c.state == "running")
    db.execute(update(command_runs).where(mine).values(output=output))


def finish(db: Connection, run_id: int, state: str, **values: object) -> bool:
    """Close an open run (ok failed refused interrupted) with its outcome, once."""
    return _move(db, run_id, ("pending", "running"), {"state": state, **values})


def renew(db: Connection, run_ids: Collection[int], lease_until: float) -> None:
    if run_ids:
        live = c.id.in_(list(run_ids)) & (c.state == "running")
        db.execute(update(command_runs).where(live).values(lease_until=lease_until))


def prune(db: Connection, before: float) -> int:
    """Forget finished runs requested before `before` (open ones stay: their agent owns them)."""
    old = c.state.not_in(("pending", "running")) & (c.requested < before)
    return int(db.execute(delete(command_runs).where(old)).rowcount)


def _move(db: Connection, run_id: int, states: tuple[str, ...], values: dict[str, object]) -> bool:
    mine = (c.id == run_id) & c.state.in_(states)
    return bool(db.execute(update(command_runs).where(mine).values(**values)).rowcount)


def _run(row: RowMapping) -> CommandRun:
    return from_row(CommandRun, row, args=tuple(json.loads(row["args"])))
