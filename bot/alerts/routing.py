"""Which channel a process's alerts go to."""

from __future__ import annotations

from collections.abc import Callable

from bot.config import Settings
from bot.domain import ProcessInfo
from bot.names import matches_any

Router = Callable[[str, str], str | None]


def router(settings: Settings) -> Router:
    """The `alerts_channel` of the first binding whose programs match, else [alerts] channel."""

    def route(node: str, process: str) -> str | None:
        if ":" in process:
            group, _, name = process.partition(":")
            info = ProcessInfo(node, group, name, "", 0, 0, 0, 0, 0, None, "", "")
            for binding in settings.channels:
                if binding.alerts_channel and matches_any(info, binding.programs):
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
