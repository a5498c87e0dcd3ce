"""Run a parsed `/sup` command for an actor: the one path shared by Slack and the console."""

from __future__ import annotations

import time
from collections.abc import Callable

from bot import errors, grammar, names
from bot.action_plan import ActionPlan
from bot.auth import Access
from bot.grammar import Command
from bot.log_search import GrepRequest
from bot.memo import Memo
from bot.processes import ProcessService
from bot.reload import ReloadService
from bot.replies import (
    ActionReply,
    ConfirmReply,
    DetailsReply,
    HelpReply,
    MessageReply,
    ReloadPreviewReply,
    ReloadReply,
    Reply,
    StatusReply,
    TailReply,
)
from bot.samples_records import NodeUsage

Handler = Callable[[Access, Command], Reply]

# Verbs that change something: they need a confirm step on more than one process.
MUTATING = {"start", "stop", "restart", "signal", "clear"}

# What `status` shows beside the processes: snoozes, memory/CPU sampled on remote hosts, the
# state's health. Three state queries, ~2 ms of CPU: asked while the nodes are read, and once
# a second, not once per asker (bot/slack/fastpath.py, 6.); at once after another command ran
# in this process (a snooze) or when the state's condition changes.
EXTRAS_EVERY = 1.0
StatusExtras = tuple[dict[tuple[str, str], float], dict[str, NodeUsage], str]


def _nothing() -> None:
    pass


class Dispatcher:
    def __init__(
        self,
        processes: ProcessService,
        reload: ReloadService,
        state_health: Callable[[], str | None] = lambda: None,
        snoozes: Callable[[], dict[tuple[str, str], float]] | None = None,
        usage: Callable[[list[str]], dict[str, NodeUsage]] | None = None,
        state_known: Callable[[], str | None] = lambda: None,
    ) -> None:
        self.processes, self.reload = processes, reload
        self.state_health = state_health  # why the state database cannot record, if it cannot
        self.state_known = state_known  # what its last use met, without a query (a memo key)
        # Alerts' active snoozes as {(node, group:name): until epoch}, shown by `status`.
        self.snoozes = snoozes
        # Memory and CPU per node from the samples recorded on each host (bot/samples.py).
        self.usage = usage
        self._extras: Memo[StatusExtras] = Memo(16)
        self._changes = 0  # commands other than status run here: each may change the extras
        self.handlers: dict[str, Handler] = {
            "status": self._status,
            "info": self._info,
            "tail": self._tail,
            "reload": self._reload,
            "help": self._help,
            "cancel": lambda _a, _c: MessageReply("Cancelled; nothing was changed."),
        }

    def register(self, verb: str, handler: Handler) -> None:
        """bot/wiring.py plugs the features' verbs (jobs, commands, snooze) in here."""
        self.handlers[verb] = handler

    def run_text(self, access: Access, text: str) -> Reply:
        """Parse and run; expected failures become a MessageReply, never an exception."""
        try:
            return self.run(access, grammar.parse(text))
        except errors.SupbotError as exc:
            return MessageReply(str(exc), error=True)

    def run(self, access: Access, command: Command, acting: Callable[[], None] = _nothing) -> Reply:
        """Run one command. `acting` is called when a process action is authorized and
        confirmed, just before anything changes (Slack shows its progress line then)."""
        if command.verb != "status":  # it may change what status shows beside the processes
            self._changes += 1
        if command.verb in MUTATING:
            return self._act(access, command, acting)
        handler = self.handlers.get(command.verb)
        if handler is None:
            raise errors.UsageError(f"`{command.verb}` is not available in this installation.")
        return handler(access, command)

    def plan(self, access: Access, command: Command) -> ActionPlan:
        """The process action `command` asks for, resolved once (bot/action_plan.py)."""
        signal = command.args[1] if command.verb == "signal" else ""
        patterns = command.args[:1] if command.verb == "signal" else command.args
        return self.processes.plan(access, command.verb, patterns, signal, command.flag("--yes"))

    def _status(self, access: Access, command: Command) -> Reply:
        pattern = command.args[0] if command.args else ""
        fresh = command.flag("--fresh")
        extras: list[StatusExtras] = []

        def meanwhile() -> None:  # while the nodes are read: the state's part of the answer
            now = int(time.monotonic() / EXTRAS_EVERY)
            key = (now, self._changes, self.state_known())
            extras.append(self._extras.get(key, self._status_extras))

        view = self.processes.status(access, pattern, fresh=fresh, meanwhile=meanwhile)
        active, found, problem = extras[0]
        snoozed: tuple[tuple[str, float], ...] = ()
        if active:
            multi = len(view.nodes) > 1
            snoozed = tuple(
                (names.label(p, multi), active[(p.node, p.full_name)])
                for p in view.processes
                if (p.node, p.full_name) in active
            )
        usage = tuple(found[n.node] for n in view.nodes if not n.error and n.node in found)
        return StatusReply(view, fresh, command.page, snoozed, problem, usage)

    def _status_extras(self) -> StatusExtras:
        active = self.snoozes() if self.snoozes is not None else {}
        found = self.usage(list(self.processes.fleet.clients)) if self.usage else {}
        return active, found, self.state_health() or ""

    def _info(self, access: Access, command: Command) -> Reply:
        return DetailsReply(self.processes.info(access, command.args[0]))

    def _tail(self, access: Access, command: Command) -> Reply:
        stream = "stderr" if command.flag("--stderr") else "stdout"
        if command.grep is not None:
            ask = GrepRequest(
                command.grep, command.flag("-i"), command.lines, command.context, stream
            )
            return TailReply(self.processes.grep(access, command.args[0], ask))
        tail = self.processes.tail(access, command.args[0], command.lines, stream)
        return TailReply(tail, command.flag("--follow"))

    def _act(self, access: Access, command: Command, acting: Callable[[], None]) -> Reply:
        """Plan, confirm (several processes or a critical one, unless `--yes`), act."""
        plan = self.plan(access, command)
        if plan.confirm:
            return ConfirmReply(plan.question(), plan.labels(), command.text + " --yes")
        acting()
        return ActionReply(self.processes.carry_out(access, plan), access.actor.mention)

    def _reload(self, access: Access, command: Command) -> Reply:
        if command.flag("--apply"):
            results = self.reload.apply(access, list(command.args))
            return ReloadReply(tuple(results), access.actor.mention)
        return ReloadPreviewReply(tuple(self.reload.preview(access)))

    def _help(self, access: Access, command: Command) -> Reply:
        return HelpReply(grammar.help_text(command.args[0] if command.args else ""))
