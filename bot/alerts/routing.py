"""Which channel a process's alerts go to."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import ChannelBinding, EscalationLevel, Settings
from bot.domain import ProcessInfo
from bot.names import matches_any

Router = Callable[[str, str], str | None]


def router(settings: Settings) -> Router:
    """The `alerts_channel` of the first binding whose programs match, else [alerts] channel."""

    def route(node: str, process: str) -> str | None:
        binding = binding_for(settings, node, process)
        if binding is not None:
            return binding.alerts_channel
        if settings.alerts.channel:
            return settings.alerts.channel
        return next((b.alerts_channel for b in settings.channels if b.alerts_channel), None)

    return route


def alert_channels(settings: Settings) -> list[str]:
    """Every channel alerts may go to, each once."""
    found = [settings.alerts.channel] if settings.alerts.channel else []
    found += [b.alerts_channel for b in settings.channels if b.alerts_channel]
    return list(dict.fromkeys(found))


def binding_for(settings: Settings, node: str, process: str) -> ChannelBinding | None:
    """The binding whose alerts channel gets the process's alerts (None: [alerts] channel)."""
    if ":" not in process:  # a node or listener incident belongs to no binding
        return None
    group, _, name = process.partition(":")
    info = ProcessInfo(node, group, name, "", 0, 0, 0, 0, 0, None, "", "")
    return next(
        (b for b in settings.channels if b.alerts_channel and matches_any(info, b.programs)),
        None,
    )


def escalation_for(settings: Settings, node: str, process: str) -> tuple[EscalationLevel, ...]:
    """The escalation levels of an incident: its binding's own, else [alerts]'s."""
    binding = binding_for(settings, node, process)
    own = binding.oncall.escalation if binding is not None else ()
    return own or settings.alerts.oncall.escalation
