"""Domain values for pure rendering tests: fleets of any size, built directly."""

from __future__ import annotations

from bot.domain import NodeStatus, ProcessInfo, Totals
from bot.processes import StatusView

NOW = 1_700_000_000


def process(
    name: str = "web",
    group: str | None = None,
    node: str = "local",
    state: str = "RUNNING",
    pid: int = 1234,
    expected_exit: bool | None = None,
    spawnerr: str = "",
    exitstatus: int = 0,
    description: str | None = None,
    **more: object,
) -> ProcessInfo:
    running = state in ("RUNNING", "STARTING", "STOPPING", "BACKOFF")
    return ProcessInfo(
        node=node,
        group=group or name,
        name=name,
        state=state,
        pid=pid if running and state != "BACKOFF" else 0,
        start=NOW - 3 * 3600,
        stop=0 if running else NOW - 60,
        now=NOW,
        exitstatus=exitstatus,
        expected_exit=expected_exit,
        spawnerr=spawnerr,
        description=description
        if description is not None
        else ("pid 1234, uptime 3:00:00" if running else "Not started"),
        **more,  # type: ignore[arg-type]
    )


def state_for(i: int) -> dict[str, object]:
    """A realistic mix: mostly running, some stopped, a few crashed in each way."""
    if i % 41 == 5:
        return {"state": "FATAL", "spawnerr": "can't find command '/opt/app/bin/missing'"}
    if i % 37 == 3:
        return {"state": "EXITED", "expected_exit": False, "exitstatus": 3}
    if i % 43 == 7:
        return {"state": "BACKOFF", "spawnerr": "Exited too quickly (process log may have details)"}
    if i % 9 == 4:
        return {"state": "STOPPED"}
    return {"state": "RUNNING"}


def fleet_processes(count: int, nodes: int = 1) -> list[ProcessInfo]:
    """`count` processes over `nodes` nodes: groups of 8 (`svcNN:svcNN_MM`) and some singles."""
    out = []
    for i in range(count):
        node = f"node{i % nodes + 1}" if nodes > 1 else "local"
        j = i // nodes
        if j % 10 == 9:
            name, group = f"single-{j:03d}", None
        else:
            group = f"service-{j // 8:02d}"
            name = f"{group}_{j % 8:02d}"
        out.append(process(name, group, node, pid=10000 + i, **state_for(i)))  # type: ignore[arg-type]
    return out


def view(
    processes: list[ProcessInfo],
    nodes: int = 1,
    cache_age: float = 0.0,
    pattern: str = "",
    down: dict[str, str] | None = None,
) -> StatusView:
    names = [f"node{k + 1}" for k in range(nodes)] if nodes > 1 else ["local"]
    statuses = [
        NodeStatus(n, tuple(p for p in processes if p.node == n), NOW - cache_age) for n in names
    ]
    statuses += [NodeStatus(n, (), NOW, error) for n, error in (down or {}).items()]
    return StatusView(tuple(processes), tuple(statuses), Totals.of(processes), cache_age, pattern)


def fleet(count: int, nodes: int = 1, **kw: object) -> StatusView:
    return view(fleet_processes(count, nodes), nodes, **kw)  # type: ignore[arg-type]
