"""The bot's side of a command run by other nodes' agents: queue it, wait for an agent to take
it, pass its output on as it comes (so `/sup run` edits live as for a local run), and close it
as interrupted when its agent stops renewing the lease."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.agent.addressing import topic
from bot.agent.liveness import NoAgent
from bot.agent.records import CommandRun
from bot.runs.execute import Outcome
from bot.state import Store

PICKUP_WAIT = 5.0  # a live agent takes a request within a second; past this it is refused
POLL = 0.1


class RemoteCommands:
    def __init__(self, store: Store) -> None:
        self.store = store

    def run(
        self,
        nodes: list[str],
        name: str,
        args: tuple[str, ...],
        actor: str,
        on_output: Callable[[str], None] | None,
        interval: float,
    ) -> Outcome:
        """Run on each of `nodes` at once; one node's outcome as is, several as sections."""
        ids = self._queue(nodes, name, args, actor)
        began, last_shown, shown = time.monotonic(), 0.0, ""
        runs = self._runs(ids)
        while not all(r.finished for r in runs.values()):
            self._close_lost(runs)
            now = time.monotonic()
            text = _combined(runs)
            if on_output and text != shown and now - last_shown >= interval:
                on_output(text)
                shown, last_shown = text, now
            time.sleep(POLL)
            runs = self._runs(ids)
        return _outcome(runs, time.monotonic() - began)

    def _queue(
        self, nodes: list[str], name: str, args: tuple[str, ...], actor: str
    ) -> dict[str, int]:
        from bot.storage import agent_commands

        with self.store.transaction() as db:
            ids = {n: agent_commands.queue(db, n, name, args, actor, time.time()) for n in nodes}
            for node in nodes:
                self.store.notify(db, topic(node))
        return ids

    def _runs(self, ids: dict[str, int]) -> dict[str, CommandRun]:
        from bot.storage import agent_commands

        with self.store.connect() as db:
            found = {n: agent_commands.get(db, i) for n, i in ids.items()}
        return {n: r for n, r in found.items() if r is not None}

    def _close_lost(self, runs: dict[str, CommandRun]) -> None:
        """Refuse what no agent took in time; interrupt what its agent stopped renewing."""
        from bot.storage import agent_commands

        with self.store.transaction() as db:
            now = self.store.now(db)
            for node, run in runs.items():
                if run.state == "pending" and time.time() - run.requested > PICKUP_WAIT:
                    why = f"the agent on {node} did not take it within {PICKUP_WAIT:g}s"
                    agent_commands.finish(db, run.id, "refused", error=why, ended=time.time())
                elif run.state == "running" and run.lease_until < now:
                    why = f"the agent on {node} stopped answering; the command's fate is unknown"
                    agent_commands.finish(db, run.id, "interrupted", error=why, ended=time.time())


def _combined(runs: dict[str, CommandRun]) -> str:
    if len(runs) == 1:
        return next(iter(runs.values())).output
    return "\n".join(f"── {node}: {_state(r)} ──\n{r.output}".rstrip() for node, r in runs.items())


def _state(run: CommandRun) -> str:
    if run.state in ("ok", "failed"):
        return f"exit {run.exit_code}" + (f" ({run.error})" if run.error else "")
    return f"{run.state}" + (f" ({run.error})" if run.error else "")


def _outcome(runs: dict[str, CommandRun], duration: float) -> Outcome:
    if len(runs) == 1:
        run = next(iter(runs.values()))
        if run.state == "refused" and not run.started:
            raise NoAgent(f"Not run on {run.node}: {run.error}.")
        return Outcome(run.exit_code, run.output, run.duration or duration, run.error)
    failed = [n for n, r in runs.items() if r.state != "ok"]
    codes = [r.exit_code for r in runs.values() if r.exit_code]
    error = f"not ok on {', '.join(failed)}" if failed else ""
    exit_code = 0 if not failed else (codes[0] if codes else None)
    return Outcome(exit_code, _combined(runs), duration, error)
