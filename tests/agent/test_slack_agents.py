"""`/sup run` through the real Slack app to the agents of a three-host fleet (signed requests,
FakeSlack at the HTTP boundary, real supervisords and agents, one real PostgreSQL)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from bot.supervisor.client import NodeClient
from tests.agent.conftest import NODES, MakeFleet, SlackFleet, argv, marker_code
from tests.conftest import wait_until
from tests.fakes.slack import Call

TICKS = f"""
[[commands]]
name = "ticks"
command = {argv(marker_code("ticks") + "; import time; [print(i, flush=True) or time.sleep(1) for i in range(5)]")}
args = '.*'
nodes = ["app*"]
"""
MARK = f"""
[[commands]]
name = "mark"
command = {argv(marker_code("mark"))}
args = '.*'
nodes = ["app*"]
"""
HOLD = f"""
[[commands]]
name = "hold"
command = {argv(marker_code("hold") + '; import os, time; [time.sleep(0.05) for _ in iter(lambda: os.path.exists("go"), True)]')}
nodes = ["app1"]
"""


def outcome(call: Call) -> bool:
    return call.method == "chat.update" and "exit code" in call.text()


def test_run_on_several_nodes_offers_each_and_a_click_runs_there_with_live_edits(
    slack_fleet: SlackFleet,
) -> None:
    made, slack = slack_fleet(TICKS)
    sent = slack.slash("run ticks now")
    assert sent.status == 200 and sent.seconds < 3
    asked = sent.wait_response(slack.fake, "@app2")
    values = [f"run ticks now @{n}" for n in (*NODES, "all")]
    assert asked.button_values() == values, asked.text()
    assert all(h.marks() == [] for h in made.hosts.values())  # a question: nothing ran
    slack.click("run ticks now @app2")
    final = slack.fake.wait_for(lambda calls: next(filter(outcome, calls), None), 30)
    assert made.hosts["app2"].marks() == ["ticks now"]
    assert made.hosts["app1"].marks() == [] and made.hosts["app3"].marks() == []
    (posted,) = slack.fake.of("chat.postMessage")
    assert posted.body["channel"] == "C0OPS" and "running" in posted.text()
    updates = [u for u in slack.fake.of("chat.update") if u.body["ts"] == posted.answer["ts"]]
    partial = [u for u in updates if "running" in u.text() and "```0" in u.text()]
    assert partial and partial[0].at < final.at, [u.text() for u in updates]
    assert "exit code 0 in " in final.text() and r"```0\n1\n2\n3\n4```" in final.text()


def test_two_agents_for_one_node_run_each_request_once(fleet: MakeFleet) -> None:
    made = fleet(MARK, agents=("app2",), twins=("app2",))
    client = NodeClient(made.hosts["app2"].sv.node())
    wait_until(lambda: client.process("agent_twin").state == "RUNNING", 20)
    access = made.bot.authorizer.for_channel("U0OPER", "C0OPS", "slash")
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(lambda i: made.bot.commands.run(access, "mark", [str(i), "@app2"]), range(6))
        )
    assert all(r.ok for r in results), results
    assert sorted(made.hosts["app2"].marks()) == [f"mark {i}" for i in range(6)]


def test_command_whose_agent_is_killed_is_shown_interrupted_once_its_lease_expires(
    slack_fleet: SlackFleet,
) -> None:
    made, slack = slack_fleet(HOLD, agents=("app1",))
    slack.slash("run hold")
    wait_until(lambda: made.hosts["app1"].marks() == ["hold "], 20)
    made.kill_agent("app1")
    (made.hosts["app1"].dir / "go").write_text("")  # the orphaned command ends on its own

    def lost(calls: list[Call]) -> Call | None:
        return next((c for c in calls if "stopped answering" in c.text()), None)

    final = slack.fake.wait_for(lost, 60)  # the lease is 30 s
    assert final.method == "chat.update" and "exit code 0" not in final.text()
    slack.fake.settle()
    shown = [c for c in slack.fake.of("chat.update") if "stopped answering" in c.text()]
    assert shown == [final]  # told once, and the message is not edited after
    assert slack.fake.of("chat.update")[-1] is final
