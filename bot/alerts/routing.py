"""Which channel a process's alerts go to, which events that channel posts, whom it mentions.

A process's alerts go to the `alerts_channel` of the first binding that takes them — its
`programs` (or `alerts_include`) match and its `alerts_exclude` do not — else [alerts] channel.
That channel's `alert_on` (the binding's, or [alerts]'s for [alerts] channel) says which
events are posted there; the others are still recorded and counted in their incident.
"""

from __future__ import annotations

from collections.abc import Callable

from bot.alerts.silence_match import process_info
from bot.config import EVENT_KINDS, ChannelBinding, EscalationLevel, Settings
from bot.names import matches_any

Router = Callable[[str, str], str | None]
Wants = Callable[[str, str, str], bool]  # (node, process, event kind) → posted?

# Event state → the kind `alert_on` names (RUNNING, STOPPED … are not alerts).
KIND_OF_STATE = {
    "EXITED": "crash",
    "BACKOFF": "crash",
    "FATAL": "fatal",
    "UNHEALTHY": "unhealthy",
    "NODE_DOWN": "node_down",
    "LISTENER_SILENT": "node_down",
}


def _takes(binding: ChannelBinding, node: str, process: str) -> bool:
    if not binding.alerts_channel or ":" not in process:
        return False
    info = process_info(node, process)
    wanted = binding.alerts_include or binding.programs
    return matches_any(info, wanted) and not matches_any(info, binding.alerts_exclude)


def binding_for(settings: Settings, node: str, process: str) -> ChannelBinding | None:
    """The binding whose alerts channel takes this process's alerts (None: [alerts])."""
    return next((b for b in settings.channels if _takes(b, node, process)), None)


def router(settings: Settings) -> Router:
    """The channel of a process's alerts (see the module docstring)."""

    def route(node: str, process: str) -> str | None:
        binding = binding_for(settings, node, process)
        if binding is not None:
            return binding.alerts_channel
        if settings.alerts.channel:
            return settings.alerts.channel
        return next((b.alerts_channel for b in settings.channels if b.alerts_channel), None)

    return route


def wants(settings: Settings) -> Wants:
    """Whether the channel a process's alerts go to posts events of `kind`."""

    def wanted(node: str, process: str, kind: str) -> bool:
        binding = binding_for(settings, node, process)
        return kind in (binding.alert_on if binding else settings.alerts.alert_on)

    return wanted


def everything(_node: str, _process: str, kind: str) -> bool:
    return kind in EVENT_KINDS


def mention_for(settings: Settings, node: str, process: str) -> str | None:
    """The binding's mention, else [alerts] mention."""
    binding = binding_for(settings, node, process)
    return (binding.mention if binding else None) or settings.alerts.mention


def job_channel(settings: Settings, job: str, kind: str) -> str | None:
    """Where a failed or missed run's alert goes: the first binding with an alerts channel
    whose `jobs` name the job, else [alerts] channel; None when that channel does not post
    `kind` (or there is none)."""
    for binding in settings.channels:
        if binding.alerts_channel and _job_named(binding.jobs, job):
            return binding.alerts_channel if kind in binding.alert_on else None
    channel = settings.alerts.channel
    return channel if channel and kind in settings.alerts.alert_on else None


def _job_named(globs: tuple[str, ...], job: str) -> bool:
    from fnmatch import fnmatchcase

    return any(fnmatchcase(job, g) for g in globs)


def alert_channels(settings: Settings) -> list[str]:
    """Every channel alerts may go to, each once."""
    found = [settings.alerts.channel] if settings.alerts.channel else []
    found += [b.alerts_channel for b in settings.channels if b.alerts_channel]
    return list(dict.fromkeys(found))


def escalation_for(settings: Settings, node: str, process: str) -> tuple[EscalationLevel, ...]:
    """The escalation levels of an incident: its binding's own, else [alerts]'s."""
    binding = binding_for(settings, node, process)
    own = binding.oncall.escalation if binding is not None else ()
    return own or settings.alerts.oncall.escalation
