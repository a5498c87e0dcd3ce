"""Commands run by agents are kept as long as job runs: the scheduler's pruning forgets finished
ones past `[storage] retention`, never one still open (its agent owns it)."""

from __future__ import annotations

import time

from bot.state import Store
from bot.storage import agent_commands
from bot.storage.jobs import History


def test_finished_command_runs_past_retention_are_pruned_open_ones_kept(
    state_store: Store,
) -> None:
    with state_store.transaction() as db:
        now = time.time()
        done = agent_commands.queue(db, "app2", "mark", ("x",), "U0OPER", now - 7200)
        agent_commands.finish(db, done, "ok", exit_code=0, ended=now - 7100)
        running = agent_commands.queue(db, "app2", "mark", ("y",), "U0OPER", now - 7200)
        assert agent_commands.take(db, running, "host:1", now - 7200, now + 30)
        recent = agent_commands.queue(db, "app1", "mark", ("z",), "U0OPER", now - 60)
        agent_commands.finish(db, recent, "failed", exit_code=1, ended=now - 50)
    History(state_store).prune(retention=3600)
    with state_store.connect() as db:
        left = {
            run_id: run.state if run else None
            for run_id in (done, running, recent)
            for run in [agent_commands.get(db, run_id)]
        }
    assert left == {done: None, running: "running", recent: "failed"}
