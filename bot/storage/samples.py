"""Queries of node_samples: one row per node and sampling round (bot/samples.py)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping

from sqlalchemy import Connection, delete, insert, select

from bot.runs.alive import HOST
from bot.samples_records import NodeUsage, Usage
from bot.storage.tables import node_samples as t


def record(db: Connection, node: str, at: float, usage: Mapping[str, Usage]) -> None:
    processes = {name: [u.rss, round(u.cpu, 1), u.pid] for name, u in usage.items()}
    db.execute(
        insert(t).values(
            node=node,
            at=at,
            host=HOST,
            rss=sum(u.rss for u in usage.values()),
            cpu=sum(u.cpu for u in usage.values()),
            count=len(usage),
            processes=json.dumps(processes, separators=(",", ":")),
        )
    )


def latest_totals(
    db: Connection, nodes: Iterable[str], since: float, now: float
) -> dict[str, NodeUsage]:
    """The newest round of each of `nodes` taken after `since` (totals only: no JSON read)."""
    query = (
        select(t.c.node, t.c.at, t.c.rss, t.c.cpu, t.c.count)
        .where(t.c.node.in_(list(nodes)), t.c.at > since)
        .order_by(t.c.at.desc())
    )
    found: dict[str, NodeUsage] = {}
    for row in db.execute(query).mappings():
        if row["node"] not in found:
            age = now - row["at"]
            found[row["node"]] = NodeUsage(
                row["node"], age, int(row["rss"]), float(row["cpu"]), int(row["count"])
            )
    return found


def history(db: Connection, node: str, process: str, since: float) -> list[tuple[float, Usage]]:
    """(at, usage) of one process in every round of its node after `since`, oldest first."""
    query = select(t.c.at, t.c.processes).where(t.c.node == node, t.c.at > since).order_by(t.c.at)
    found = []
    for at, processes in db.execute(query):
        figures = json.loads(processes).get(process)
        if figures is not None:
            found.append((at, Usage(int(figures[0]), float(figures[1]), int(figures[2]))))
    return found


def histories(
    db: Connection, node: str, processes: Iterable[str], since: float
) -> dict[str, list[Usage]]:
    """The figures of several processes of one node in every round after `since`, oldest first
    (each round's JSON read once, for App Home)."""
    wanted = set(processes)
    query = select(t.c.processes).where(t.c.node == node, t.c.at > since).order_by(t.c.at)
    found: dict[str, list[Usage]] = {}
    for (row,) in db.execute(query):
        for name, figures in json.loads(row).items():
            if name in wanted:
                usage = Usage(int(figures[0]), float(figures[1]), int(figures[2]))
                found.setdefault(name, []).append(usage)
    return found


def prune(db: Connection, before: float) -> int:
    """Forget every round older than `before`, of every node (a node gone for good too)."""
    return int(db.execute(delete(t).where(t.c.at < before)).rowcount or 0)
