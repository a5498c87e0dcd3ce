"""What a process action will do, decided once before anything is asked or changed.

Every surface (Slack, console, CLI, API) goes the same way: `ProcessService.plan()` resolves
the targets from one fresh read of the nodes the patterns can be on and decides whether the
actor may act and must confirm first; the surface confirms when the plan says so; then
`ProcessService.carry_out()` acts on exactly these targets. A refusal is decided (and audited)
in planning only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from bot import errors, names
from bot.auth import ACTION_ROLE, Access, refusal
from bot.domain import NodeStatus, ProcessInfo


@dataclass(frozen=True)
class ActionPlan:
    verb: str  # start | stop | restart | signal | clear
    patterns: tuple[str, ...]  # as the actor typed them
    targets: tuple[ProcessInfo, ...]  # resolved, each with its node, in the order named
    role: str  # the least role the actor holds over every target (bot/auth.ACTION_ROLE)
    confirm: bool  # several processes or a critical one, and not confirmed (`--yes`) yet
    critical: tuple[ProcessInfo, ...] = ()
    signal: str = ""  # `signal` only: the signal's name without SIG

    @property
    def pattern(self) -> str:
        return " ".join(self.patterns)

    def question(self) -> str:
        """The confirm step's question, e.g. `Restart 3 processes?`."""
        count = len(self.targets)
        why = "critical " if self.critical and count == 1 else ""
        return f"{self.verb.capitalize()} {count} {why}process{'es' if count > 1 else ''}?"

    def labels(self) -> tuple[str, ...]:
        """The targets as the confirm step lists them: with their node when on several."""
        multi = len({p.node for p in self.targets}) > 1
        return tuple(names.label(p, multi) for p in self.targets)


def resolve(
    access: Access,
    action: str,
    pattern: str,
    processes: Sequence[ProcessInfo],
    statuses: Sequence[NodeStatus],
) -> list[ProcessInfo]:
    """The processes `pattern` names among those `access` may see, from one fleet read.

    Nothing visible matches: a node the pattern can be on that did not answer is the reason
    (NodeUnreachable); an API token is told the name exists outside its globs (Forbidden),
    while a channel does not reveal another channel's programs (NoSuchProcess)."""
    try:
        found = names.resolve(access.visible(processes), pattern)
    except errors.NoSuchProcess:
        for status in statuses:
            if status.error:
                raise errors.NodeUnreachable(status.node, status.error) from None
        if access.actor.surface == "api" and names.select(processes, pattern):
            raise errors.Forbidden(refusal(access.actor, action, pattern)) from None
        raise
    denied = [p for p in found if not access.allows(action, p)]
    if denied:
        raise errors.Forbidden(refusal(access.actor, action, denied[0].display_name))
    return found


def plan_action(
    access: Access,
    verb: str,
    patterns: Sequence[str],
    fleet_read: tuple[Sequence[ProcessInfo], Sequence[NodeStatus]],
    node_sets: Sequence[list[str] | None],
    signal: str = "",
    confirmed: bool = False,
) -> ActionPlan:
    """The plan for `verb` on `patterns` from one fleet read; `node_sets[i]` are the nodes
    pattern i can be on (None: all), so a down node only explains the patterns it could hold."""
    processes, statuses = fleet_read
    targets: dict[tuple[str, str], ProcessInfo] = {}  # a process named twice is acted on once
    for pattern, nodes in zip(patterns, node_sets, strict=True):
        theirs = [s for s in statuses if nodes is None or s.node in nodes]
        for p in resolve(access, verb, pattern, processes, theirs):
            targets.setdefault((p.node, p.full_name), p)
    chosen = tuple(targets.values())
    critical = tuple(p for p in chosen if access.is_critical(p))
    if verb == "signal":
        signal = _signal_name(signal)
    confirm = not confirmed and (len(chosen) > 1 or bool(critical))
    return ActionPlan(verb, tuple(patterns), chosen, ACTION_ROLE[verb], confirm, critical, signal)


def _signal_name(signal: str) -> str:
    sig = signal.upper().removeprefix("SIG")
    if not sig:
        raise errors.UsageError("Name a signal, e.g. `signal web HUP`.")
    return sig
