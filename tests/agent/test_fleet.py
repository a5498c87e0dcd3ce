"""Jobs and commands addressed to nodes, run by each host's `supbot agent` (three supervisords
sharing only a real PostgreSQL server)."""

from __future__ import annotations

import time
from collections import Counter

import pytest

from bot.agent.liveness import NoAgent, NodeChoice
from bot.agent.missed import record_absent
from bot.auth import Access
from bot.storage.job_records import JobRun
from tests.agent.conftest import NODES, Fleet, MakeFleet, argv, marker_code
from tests.conftest import wait_until

SHOW = '; print(open("marker").read(), flush=True)'
MARK = f"""
[[commands]]
name = "mark"
command = {argv(marker_code("mark") + SHOW)}
args = '.*'
nodes = ["app*"]
"""


def operator(fleet: Fleet) -> Access:
    return fleet.bot.authorizer.for_channel("U0OPER", "C0OPS", "slash")


def test_run_at_app2_runs_on_host_2_only(fleet: MakeFleet) -> None:
    made = fleet(MARK)
    shown: list[str] = []
    result = made.bot.commands.run(operator(made), "mark", ["hello", "@app2"], shown.append, 0.1)
    assert result.ok, result
    assert made.hosts["app2"].marks() == ["mark hello"]
    assert made.hosts["app1"].marks() == [] and made.hosts["app3"].marks() == []
    assert "mark hello" in result.output  # its output came back through the state


def test_several_nodes_without_at_asks_which_and_at_all_runs_on_each(fleet: MakeFleet) -> None:
    made = fleet(MARK)
    with pytest.raises(NodeChoice) as asked:
        made.bot.commands.check(operator(made), "mark", ["x"])
    assert [c.label for c in asked.value.choices] == ["@app1", "@app2", "@app3", "@all"]
    assert asked.value.choices[1].command == "run mark x @app2"
    result = made.bot.commands.run(operator(made), "mark", ["x", "@all"])
    assert result.ok, result
    for node in NODES:
        assert made.hosts[node].marks() == ["mark x"]
        assert f"── {node}: exit 0 ──" in result.output


def test_node_without_agent_is_refused_with_the_reason(fleet: MakeFleet) -> None:
    job = f"""
[[jobs]]
name = "nightly"
schedule = "0 3 * * *"
command = {argv(marker_code("nightly"))}
nodes = ["app3"]
"""
    made = fleet(MARK + job, agents=("app1", "app2"))
    with pytest.raises(NoAgent, match=r"No agent on app3 has ever reported — start `supbot agent`"):
        made.bot.commands.run(operator(made), "mark", ["@app3"])
    with pytest.raises(NoAgent, match="No agent on app3"):
        made.bot.jobs.run_now(operator(made), "nightly")
    assert made.hosts["app3"].marks() == []
    # A slot that comes while no agent is there is recorded as missed, with the reason.
    nightly = made.bot.settings.jobs[0]
    assert record_absent(made.bot.jobs, nightly, 1_000_000.0) == 1
    (missed,) = made.bot.jobs.history_of("nightly")
    assert missed.status == "missed" and "no agent on app3" in missed.error


def runs(made: Fleet, job: str) -> list[JobRun]:
    return made.bot.jobs.history_of(job, 200)


def test_on_one_runs_once_per_slot_across_three_agents(fleet: MakeFleet) -> None:
    job = f"""
[[jobs]]
name = "tick"
schedule = "* * * * * */2"
command = {argv(marker_code("tick"))}
nodes = ["app*"]
on = "one"
overlap = "allow"
"""
    made = fleet(job)
    wait_until(lambda: sum(r.status == "ok" for r in runs(made, "tick")) >= 5, 40)
    done = [r for r in runs(made, "tick") if r.status in ("ok", "running")]
    per_slot = Counter(r.scheduled for r in done)
    assert max(per_slot.values()) == 1, per_slot
    wait_until(lambda: all(r.status == "ok" for r in runs(made, "tick")[1:]), 10)
    ran = sum(len(made.hosts[n].marks()) for n in NODES)
    assert ran >= sum(r.status == "ok" for r in runs(made, "tick")[1:])  # no run unrecorded


def test_on_each_runs_once_per_node_and_slot(fleet: MakeFleet) -> None:
    job = f"""
[[jobs]]
name = "each"
schedule = "* * * * * */2"
command = {argv(marker_code("each"))}
nodes = ["app*"]
on = "each"
"""
    made = fleet(job)

    def slots_on_every_node() -> int:
        by_slot: dict[float | None, set[str]] = {}
        for r in runs(made, "each"):
            by_slot.setdefault(r.scheduled, set()).add(r.node)
        return sum(nodes == set(NODES) for nodes in by_slot.values())

    wait_until(lambda: slots_on_every_node() >= 2, 40)
    counted = Counter((r.scheduled, r.node) for r in runs(made, "each"))
    assert max(counted.values()) == 1, counted
    for node in NODES:
        assert made.hosts[node].marks()


def test_agent_killed_mid_job_is_interrupted_lock_freed_next_slot_runs(
    fleet: MakeFleet,
) -> None:
    wait = 'import os,time; [time.sleep(0.05) for _ in iter(lambda: os.path.exists("go"), True)]'
    job = f"""
[[jobs]]
name = "slow"
schedule = "* * * * * */2"
command = {argv(wait)}
nodes = ["app1"]
"""
    made = fleet(job, agents=("app1",))
    wait_until(lambda: any(r.status == "running" for r in runs(made, "slow")), 20)
    (first,) = [r for r in runs(made, "slow") if r.status == "running"]
    old = made.hosts["app1"].agent_pid()
    made.kill_agent("app1")
    wait_until(lambda: made.hosts["app1"].agent_pid() not in (0, old), 20)  # supervisord again
    (made.hosts["app1"].dir / "go").write_text("")  # the orphaned job ends on its own
    deadline = time.monotonic() + 30
    wait_until(lambda: made.bot.jobs.runs.get(first.id).status == "interrupted", 30)  # type: ignore[union-attr]
    wait_until(
        lambda: any(r.status == "ok" and r.id > first.id for r in runs(made, "slow")),
        max(1.0, deadline - time.monotonic()),
    )
    assert [r for r in runs(made, "slow") if r.id == first.id][0].status == "interrupted"
