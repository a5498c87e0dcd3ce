"""Pagers: what PagerDuty and Opsgenie are to be told of an incident, queued in the outbox.

An incident is handed to the pagers of its binding (its own `pagerduty`/`opsgenie`) or of
[alerts]. What each pager was told is one row per incident, pager and target (`alert_pages`),
moved on in the transaction that changes the incident and queues the call: a trigger is queued
once per opening of the incident (a reopening triggers again), an acknowledge only after a
trigger, a resolve only once after either. The calls go out through the outbox like Slack
messages (bot/alerts/pager_send.py): retried, kept across restarts, in order per pager.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.alerts.records import Incident
from bot.alerts.routing import binding_for
from bot.config import OpsgenieSettings, PagerDutySettings, Settings

if TYPE_CHECKING:
    from bot.storage.alerts.tx import AlertTx

PROVIDERS = ("pagerduty", "opsgenie")
KIND = "page"  # the outbox rows' kind
# action: (the states it may follow, the state it leads to); None: never told
MOVES: dict[str, tuple[tuple[str | None, ...], str]] = {
    "trigger": ((None, "resolved"), "triggered"),
    "acknowledge": (("triggered",), "acknowledged"),
    "resolve": (("triggered", "acknowledged"), "resolved"),
}

PagerSettings = PagerDutySettings | OpsgenieSettings


def targets(settings: Settings, node: str, process: str) -> list[tuple[str, str]]:
    """(provider, target) of every pager the incident goes to; target "" is [alerts]'s."""
    binding = binding_for(settings, node, process)
    found = []
    for provider in PROVIDERS:
        if binding is not None and getattr(binding.oncall, provider) is not None:
            found.append((provider, binding.id))
        elif getattr(settings.alerts.oncall, provider) is not None:
            found.append((provider, ""))
    return found


def pager_settings(settings: Settings, provider: str, target: str) -> PagerSettings | None:
    """The pager's key and URL as configured now (None: no longer configured)."""
    binding = settings.binding(target) if target else None
    oncall = binding.oncall if binding is not None else settings.alerts.oncall
    if target and binding is None:
        return None
    found: PagerSettings | None = getattr(oncall, provider)
    return found


def channel(provider: str, target: str) -> str:
    """The outbox channel of one pager: its calls go out in order, one at a time."""
    return f"{provider}:{target or 'alerts'}"


class Pager:
    """Queues pager calls inside the caller's transaction."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def tell(self, tx: AlertTx, inc: Incident, action: str) -> int:
        """Queue `action` (trigger, acknowledge, resolve) to every pager of the incident for
        which it follows what that pager was told; returns how many calls were queued."""
        allowed, after = MOVES[action]
        queued = 0
        for provider, target in targets(self.settings, inc.node, inc.process):
            state, triggers = tx.page_state(inc.id, provider, target) or (None, 0)
            if state not in allowed:
                continue
            triggers += action == "trigger"
            tx.set_page_state(inc.id, provider, target, after, triggers)
            payload = {"provider": provider, "target": target, "action": action}
            tx.enqueue(channel(provider, target), KIND, inc.id, payload | {"round": triggers})
            queued += 1
        return queued
