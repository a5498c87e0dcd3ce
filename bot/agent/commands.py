"""The agent's side of commands addressed to its node: take each (one agent only), check it
against this host's own config (never run what it does not allow here, whatever the bot
said), run it with the runner code every command uses, and stream its output into the state."""

from __future__ import annotations

import logging
import os
import threading
import time
import uuid
from pathlib import Path

from bot.agent.addressing import matches
from bot.agent.records import CommandRun
from bot.commands.spec import check_args
from bot.config import CommandSettings, Settings
from bot.redact import Redactor
from bot.runs.alive import HOST
from bot.runs.execute import ProgramMissing, environment, start, supervise
from bot.scheduler.locks import LEASE, RENEW_EVERY
from bot.secret_values import own_secret_values
from bot.state import Store

log = logging.getLogger("supbot.agent")

OUTPUT_EVERY = 1.0  # seconds between output updates in the state (the bot edits every 3 s)


class AgentCommands:
    def __init__(self, settings: Settings, store: Store, redactor: Redactor, node: str) -> None:
        self.settings, self.store, self.redactor, self.node = settings, store, redactor, node
        self.logs_dir = settings.storage.dir / "runs"
        self.threads: dict[int, threading.Thread] = {}
        self._secrets = own_secret_values(settings)
        self._renewed = 0.0
        self.me = f"{HOST}:{os.getpid()}"

    def allowed(self, name: str) -> CommandSettings | None:
        """The command as this host's config allows it on this node, if it does."""
        found = next((c for c in self.settings.commands if c.name == name), None)
        return found if found is not None and matches(self.node, found.nodes) else None

    def serve(self) -> None:
        """Take and start what is queued for this node; renew the leases of what runs."""
        from bot.storage import agent_commands

        with self.store.connect() as db:
            queued = agent_commands.pending(db, self.node)
        for run in queued:
            self._take(run)
        if self.threads and time.monotonic() - self._renewed >= RENEW_EVERY:
            with self.store.connect() as db:
                agent_commands.renew(db, list(self.threads), self.store.now(db) + LEASE)
            self._renewed = time.monotonic()

    def _take(self, run: CommandRun) -> None:
        from bot.storage import agent_commands

        with self.store.transaction() as db:
            lease = self.store.now(db) + LEASE
            if not agent_commands.take(db, run.id, self.me, time.time(), lease):
                return  # another agent of this node took it
            spec = self.allowed(run.command)
            problem = (
                f"`{run.command}` is not allowed on {self.node} by its agent's config"
                if spec is None
                else check_args(_spec(spec), run.args)
            )
            if problem:
                agent_commands.finish(db, run.id, "refused", error=problem, ended=time.time())
                log.warning("command run #%d refused: %s", run.id, problem)
                return
        assert spec is not None
        thread = threading.Thread(target=self._run, args=(run, spec), daemon=True)
        self.threads[run.id] = thread
        thread.start()

    def _run(self, run: CommandRun, spec: CommandSettings) -> None:
        from bot.storage import agent_commands

        path = self.logs_dir / f"cmd-{uuid.uuid4().hex}.log"
        try:
            state, values = self._execute(run, spec, path)
            with self.store.connect() as db:
                agent_commands.finish(db, run.id, state, ended=time.time(), **values)
            log.info("command run #%d (%s) %s", run.id, run.command, state)
        except Exception:
            log.exception("command run #%d could not be run or recorded", run.id)
        finally:
            path.unlink(missing_ok=True)
            self.threads.pop(run.id, None)

    def _execute(self, run: CommandRun, spec: CommandSettings, path: Path) -> tuple[str, dict]:
        from bot.storage import agent_commands

        def stream(output: str) -> None:
            with self.store.connect() as db:
                agent_commands.set_output(db, run.id, output)

        env = environment(spec.env, self._secrets)
        try:
            proc = start((*spec.command, *run.args), spec.cwd, env, path)
        except ProgramMissing as exc:
            return "failed", {"error": f"`{run.command}` cannot run on {self.node}: {exc}"}
        outcome = supervise(
            proc,
            path,
            self.redactor,
            spec.timeout,
            stream,
            OUTPUT_EVERY,
            max_output=self.settings.max_output,
        )
        values = {
            "exit_code": outcome.exit_code,
            "output": outcome.output,
            "error": outcome.error,
            "duration": outcome.duration,
        }
        return ("ok" if outcome.ok else "failed"), values


def _spec(command: CommandSettings):  # type: ignore[no-untyped-def]
    from bot.commands.spec import CommandSpec

    return CommandSpec(command.name, command.command, args=command.args)
