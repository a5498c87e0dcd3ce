"""Run a parsed `/sup` command for an actor: the one path shared by Slack and the console."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot import errors, grammar, names
from bot.auth import Access
from bot.grammar import Command
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

Handler = Callable[[Access, Command], Reply]

# Verbs that change something: they need a confirm step on more than one process.
MUTATING = {"start", "stop", "restart", "signal", "clear"}


class Dispatcher:
    def __init__(
        self,
        processes: ProcessService,
        reload: ReloadService,
        state_health: Callable[[], str | None] = lambda: None,
        snoozes: Callable[[], dict[tuple[str, str], float]] | None = None,
    ) -> None:
        self.processes, self.reload = processes, reload
        self.state_health = state_health  # why the state database cannot record, if it cannot
        # Alerts' active snoozes as {(node, group:name): until epoch}, shown by `status`.
        self.snoozes = snoozes
        self.handlers: dict[str, Handler] = {
            "status": self._status,
            "info": self._info,
            "tail": self._tail,
            "reload": self._reload,
            "help": self._help,
            "cancel": lambda _a, _c: MessageReply("Cancelled; nothing was changed."),
        }
        for action in MUTATING:
            self.handlers[action] = self._act

    def register(self, verb: str, handler: Handler) -> None:
        """bot/wiring.py plugs the features' verbs (jobs, commands, snooze) in here."""
        self.handlers[verb] = handler

    def run_text(self, access: Access, text: str) -> Reply:
        """Parse and run; expected failures become a MessageReply, never an exception."""
        try:
            return self.run(access, grammar.parse(text))
        except errors.SupbotError as exc:
            return MessageReply(str(exc), error=True)

    def run(self, access: Access, command: Command) -> Reply:
        handler = self.handlers.get(command.verb)
        if handler is None:
            raise errors.UsageError(f"`{command.verb}` is not available in this installation.")
        return handler(access, command)

    def needs_confirmation(self, access: Access, command: Command) -> ConfirmReply | None:
        """A confirm step for several processes or a critical one, unless `--yes` was given."""
        if command.verb not in MUTATING or command.flag("--yes"):
            return None
        targets = []
        for pattern in command.args[:1] if command.verb == "signal" else command.args:
            targets += self.processes.find(access, pattern, command.verb)
        critical = [p for p in targets if access.is_critical(p)]
        if len(targets) < 2 and not critical:
            return None
        multi = len({p.node for p in targets}) > 1
        shown = tuple(names.label(p, multi) for p in targets)
        why = "critical " if critical and len(targets) == 1 else ""
        question = f"{command.verb.capitalize()} {len(targets)} {why}process{'es' if len(targets) > 1 else ''}?"
        return ConfirmReply(question, shown, command.text + " --yes")

    def _status(self, access: Access, command: Command) -> Reply:
        pattern = command.args[0] if command.args else ""
        view = self.processes.status(access, pattern, fresh=command.flag("--fresh"))
        snoozed: tuple[tuple[str, float], ...] = ()
        if self.snoozes is not None:
            active = self.snoozes()
            multi = len(view.nodes) > 1
            snoozed = tuple(
                (names.label(p, multi), active[(p.node, p.full_name)])
                for p in view.processes
                if (p.node, p.full_name) in active
            )
        return StatusReply(
            view, command.flag("--fresh"), command.page, snoozed, self.state_health() or ""
        )

    def _info(self, access: Access, command: Command) -> Reply:
        return DetailsReply(self.processes.info(access, command.args[0]))

    def _tail(self, access: Access, command: Command) -> Reply:
        stream = "stderr" if command.flag("--stderr") else "stdout"
        tail = self.processes.tail(access, command.args[0], command.lines, stream)
        return TailReply(tail, command.flag("--follow"))

    def _act(self, access: Access, command: Command) -> Reply:
        try:
            confirm = self.needs_confirmation(access, command)
        except errors.Forbidden as exc:  # refused before act() could audit it
            a = access.actor
            target = " ".join(command.args)
            self.processes.audit.record(
                a.id, a.surface, command.verb, target, "refused", a.channel, 0.0, str(exc)
            )
            raise
        if confirm:
            return confirm
        signal = command.args[1] if command.verb == "signal" else ""
        patterns = command.args[:1] if command.verb == "signal" else command.args
        reports = [self.processes.act(access, command.verb, p, signal) for p in patterns]
        report = replace(
            reports[0],
            pattern=" ".join(r.pattern for r in reports),
            outcomes=tuple(o for r in reports for o in r.outcomes),
            seconds=sum(r.seconds for r in reports),
        )
        return ActionReply(report, access.actor.mention)

    def _reload(self, access: Access, command: Command) -> Reply:
        if command.flag("--apply"):
            results = self.reload.apply(access, list(command.args))
            return ReloadReply(tuple(results), access.actor.mention)
        return ReloadPreviewReply(tuple(self.reload.preview(access)))

    def _help(self, access: Access, command: Command) -> Reply:
        return HelpReply(grammar.help_text(command.args[0] if command.args else ""))
