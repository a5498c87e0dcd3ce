"""Is there a live agent on a node, and where does a job or command addressed by node patterns
run: the refusals a user sees before anything is queued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from bot import errors
from bot.agent.addressing import beat_name, matching
from bot.grammar import quote
from bot.replies import Choice
from bot.state import Store


class NoAgent(errors.SupbotError):
    """The node has no live agent: nothing was queued."""


class NodeChoice(errors.SupbotError):
    """Several nodes match and none was named: the user picks one (buttons), or `@all`."""

    def __init__(self, message: str, choices: tuple[Choice, ...]) -> None:
        super().__init__(message)
        self.choices = choices


@dataclass(frozen=True)
class AgentSeen:
    node: str
    live: bool
    seen: float | None  # its last heartbeat, epoch seconds; None when it never reported


def agent_seen(store: Store, node: str) -> AgentSeen:
    row = store.last_heartbeat(beat_name(node))
    if row is None:
        return AgentSeen(node, False, None)
    with store.connect() as db:
        live = row["lease_until"] > store.now(db) and row["detail"] not in ("stopping", "stopped")
    return AgentSeen(node, live, row["seen"] or None)


def absent_reason(seen: AgentSeen, tz: str) -> str:
    """'no agent on app2 since 14:02 — start `supbot agent` there'."""
    if seen.seen is None:
        return f"no agent on {seen.node} has ever reported — start `supbot agent` there"
    return f"no agent on {seen.node} since {_clock(seen.seen, tz)} — start `supbot agent` there"


def _clock(when: float, tz: str) -> str:
    return datetime.fromtimestamp(when, ZoneInfo(tz or "UTC")).strftime("%H:%M")


def resolve(
    store: Store,
    what: tuple[str, ...],
    patterns: tuple[str, ...],
    known: list[str],
    at: str | None,
    tz: str,
) -> list[str]:
    """The nodes to run `what` (the /sup words, for buttons) on: `@node`, `@all`, the one
    matching node; NodeChoice when several match and none was named; NoAgent (with the
    reason) when one of them has no live agent."""
    candidates = matching(patterns, known)
    if not candidates:
        raise errors.UsageError(f"`{what[1]}` runs on {', '.join(patterns)}: no such node here.")
    if at == "all":
        targets = candidates
    elif at is not None:
        if at not in candidates:
            where = ", ".join(f"`@{n}`" for n in candidates)
            raise errors.UsageError(f"`{what[1]}` does not run on `{at}`; it runs on {where}.")
        targets = [at]
    elif len(candidates) == 1:
        targets = candidates
    else:
        buttons = [Choice(f"@{n}", quote(*what, f"@{n}")) for n in candidates]
        buttons.append(Choice("@all", quote(*what, "@all")))
        where = ", ".join(f"`{n}`" for n in candidates)
        raise NodeChoice(
            f"`{what[1]}` runs on {where}: which one? (add `@node`, or `@all` for each)",
            tuple(buttons),
        )
    absent = [s for s in (agent_seen(store, n) for n in targets) if not s.live]
    if absent:
        why = "; ".join(absent_reason(s, tz) for s in absent)
        raise NoAgent(why[0].upper() + why[1:] + ".")
    return targets
