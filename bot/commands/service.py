"""CommandService: allow-listed commands, run on this host as argv (never through a shell).

Everything that can refuse a run (unknown command, role, arguments: bot/commands/spec.py) is
checked before anything runs. `[[command_sources]]` add discovered commands
(bot/commands/discovery.py).
"""

from __future__ import annotations

import difflib
import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace

from bot import errors
from bot.agent.addressing import split_target
from bot.agent.remote import RemoteCommands
from bot.audit import AuditLog
from bot.auth import Access, refusal
from bot.commands.discovery import Discovery
from bot.commands.spec import CommandSpec, check_args
from bot.config import Settings
from bot.redact import Redactor
from bot.runs.execute import Outcome, ProgramMissing, environment, start, supervise
from bot.secret_values import own_secret_values
from bot.state import Store
from bot.usertext import quote

OUTPUT_INTERVAL = 2.0


class UnknownCommand(errors.SupbotError):
    exit_code = errors.ExitStatus.USAGE


@dataclass(frozen=True)
class CommandResult:
    name: str
    args: tuple[str, ...]
    exit_code: int | None
    duration: float
    output: str  # redacted tail: last ~100 lines / 64 KB
    error: str = ""  # e.g. timed out
    actor: str = ""

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.error


class CommandService:
    def __init__(
        self, settings: Settings, audit: AuditLog, redactor: Redactor, store: Store | None = None
    ) -> None:
        self.settings, self.audit, self.redactor = settings, audit, redactor
        self.store = store  # the shared state, through which other nodes' agents run commands
        self.logs_dir = settings.storage.dir / "runs"
        self.max_output = settings.max_output
        self._secrets = own_secret_values(settings)
        self.discovery = Discovery(
            settings.command_sources, redactor, self._secrets, self.logs_dir, self.max_output
        )

    @property
    def secrets(self) -> frozenset[str]:
        """supbot's own secret values: kept out of every child's environment."""
        return self._secrets

    # --- listing ----------------------------------------------------------------------------

    def all_commands(self) -> list[CommandSpec]:
        configured = [
            CommandSpec(
                c.name, c.command, c.description, c.args, c.timeout, c.cwd, c.env, nodes=c.nodes
            )
            for c in self.settings.commands
        ]
        names = {c.name for c in configured}
        return configured + [d for d in self.discovery.commands() if d.name not in names]

    @property
    def discovery_errors(self) -> list[str]:
        """Why a `[[command_sources]]` listing failed at its last try (shown with the list)."""
        return self.discovery.errors

    def list_commands(self, access: Access) -> list[CommandSpec]:
        """What the asker may see, shown safely: env values hidden, argv redacted."""
        return [self._shown(c) for c in self._visible(access)]

    def _visible(self, access: Access) -> list[CommandSpec]:
        return [
            c for c in self.all_commands() if access.allows_named("commands", "commands", c.name)
        ]

    def _shown(self, spec: CommandSpec) -> CommandSpec:
        argv = tuple(self.redactor.redact(word) for word in spec.command)
        return replace(spec, command=argv, env={k: "[hidden]" for k in spec.env})

    # --- running ----------------------------------------------------------------------------

    def check(self, access: Access, name: str, args: tuple[str, ...] | list[str]) -> CommandSpec:
        """Everything that can refuse a run, before anything runs (a trailing `@node` names
        where: see `nodes`)."""
        spec = self._check(access, name, tuple(args))
        self.nodes(access, spec, tuple(args))
        return spec

    def nodes(self, access: Access, spec: CommandSpec, args: tuple[str, ...]) -> list[str]:
        """Where it runs: [] = here; else the nodes whose agents run it (NodeChoice when the
        user must pick one, NoAgent with the reason when one has no live agent)."""
        from bot.agent.liveness import NodeChoice, resolve

        if not spec.nodes:  # this host: a word starting with @ is one of its arguments
            return []
        own, at = split_target(args)
        if self.store is None:
            raise errors.UsageError(f"`{spec.name}` runs on other nodes: no shared state here.")
        known = [n.name for n in self.settings.nodes]
        try:
            return resolve(
                self.store, ("run", spec.name, *own), spec.nodes, known, at, self.settings.timezone
            )
        except NodeChoice:  # a question, not a refusal
            raise
        except errors.SupbotError as exc:
            self._audit(access, spec.name, args, "refused", str(exc))
            raise

    def _check(self, access: Access, name: str, args: tuple[str, ...]) -> CommandSpec:
        spec = next((c for c in self._visible(access) if c.name == name), None)
        if spec is None:
            self._audit(access, name, args, "refused", "unknown command")
            raise UnknownCommand(self._unknown(access, name))
        if not access.allows_named("run", "commands", name):
            self._audit(access, name, args, "refused", "not allowed")
            raise errors.Forbidden(refusal(access.actor, "run", name))
        own = split_target(args)[0] if spec.nodes else args  # `@node` says where, not what
        problem = check_args(spec, own)
        if problem:
            self._audit(access, name, args, "refused", problem)
            raise errors.UsageError(problem)
        return spec

    def run(
        self,
        access: Access,
        name: str,
        args: tuple[str, ...] | list[str],
        on_output: Callable[[str], None] | None = None,
        interval: float = OUTPUT_INTERVAL,
    ) -> CommandResult:
        """Run an allow-listed command; `on_output(tail so far)` every `interval` seconds.

        The attempt is audited before anything runs (no record, no run) and completed with
        the outcome afterwards, whatever happens in between."""
        args = tuple(args)
        spec = self._check(access, name, args)
        nodes = self.nodes(access, spec, args)
        return self.run_checked(access, spec, args, on_output, interval, nodes=nodes)

    def run_checked(
        self,
        access: Access,
        spec: CommandSpec,
        args: tuple[str, ...],
        on_output: Callable[[str], None] | None = None,
        interval: float = OUTPUT_INTERVAL,
        action: str = "run",
        nodes: list[str] | None = None,
    ) -> CommandResult:
        """Run a spec the caller has already checked (also Laravel's schedule:run/test); on
        the agents of `nodes` when given (`args` may end with their `@node`)."""
        name, a = spec.name, access.actor
        (attempt,) = self.audit.begin(a.id, a.surface, action, [_target(name, args)], a.channel)
        try:
            if nodes and self.store is not None:
                own, _ = split_target(args)
                remote = RemoteCommands(self.store)
                outcome = remote.run(nodes, name, own, a.id, on_output, interval)
            else:
                outcome = self._execute(spec, args, on_output, interval)
        except ProgramMissing as exc:
            self.audit.finish(attempt, "failed", 0.0, str(exc))
            raise ProgramMissing(f"`{name}` cannot run: {exc}") from None
        except errors.SupbotError as exc:  # e.g. no agent took it
            self.audit.finish(attempt, "failed", 0.0, str(exc))
            raise
        except BaseException:  # a bug: the row still gets an outcome, the traceback a log
            self.audit.finish(attempt, "failed", 0.0, "supbot failed while running it")
            raise
        ok = outcome.ok
        error = outcome.error or ("" if ok else f"exit {outcome.exit_code}")
        self.audit.finish(attempt, "ok" if ok else "failed", outcome.duration, error)
        return CommandResult(
            name,
            args,
            outcome.exit_code,
            outcome.duration,
            outcome.output,
            outcome.error,
            access.actor.id,
        )

    def _execute(
        self,
        spec: CommandSpec,
        args: tuple[str, ...],
        on_output: Callable[[str], None] | None,
        interval: float,
    ) -> Outcome:
        env = environment(spec.env, self._secrets)
        path = self.logs_dir / f"cmd-{uuid.uuid4().hex}.log"
        try:
            proc = start((*spec.command, *args), spec.cwd, env, path)
            return supervise(
                proc,
                path,
                self.redactor,
                spec.timeout,
                on_output,
                interval,
                max_output=self.max_output,
            )
        finally:
            path.unlink(missing_ok=True)

    def _unknown(self, access: Access, name: str) -> str:
        usable = [
            c.name
            for c in self.list_commands(access)
            if access.allows_named("run", "commands", c.name)
        ]
        close = difflib.get_close_matches(name, usable, n=1)
        hint = f" Did you mean `{close[0]}`?" if close else ""
        if not usable:
            return f"No command {quote(name)} here, and you may not run any commands here."
        listing = ", ".join(f"`{u}`" for u in usable)
        return f"No command {quote(name)} here.{hint} Commands you may run here: {listing}."

    def _audit(
        self,
        access: Access,
        name: str,
        args: tuple[str, ...] | list[str],
        outcome: str,
        error: str,
        duration: float = 0.0,
    ) -> None:
        a = access.actor
        target = _target(name, args)
        self.audit.record(a.id, a.surface, "run", target, outcome, a.channel, duration, error)


def _target(name: str, args: tuple[str, ...] | list[str]) -> str:
    return " ".join([name, *args])[:500]
