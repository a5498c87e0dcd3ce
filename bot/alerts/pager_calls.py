"""The HTTP requests the pagers' documented APIs take, built from an incident (no sending).

- PagerDuty Events API v2: POST {url}/v2/enqueue, `event_action` trigger | acknowledge |
  resolve, `dedup_key` the incident's key (PagerDuty folds a repeated trigger into the open
  alert with that key: a call sent again after a restart does not page twice).
- Opsgenie Alert API: POST {url}/v2/alerts (create, `alias` the incident's key: Opsgenie
  de-duplicates by alias), POST {url}/v2/alerts/{alias}/acknowledge|close?identifierType=alias,
  authorized by `GenieKey <key>`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from bot.alerts.oncall import label
from bot.alerts.records import Incident
from bot.config import OpsgenieSettings, PagerDutySettings

SOURCE = "supbot"
OPSGENIE_VERBS = {"acknowledge": "acknowledge", "resolve": "close"}


@dataclass(frozen=True)
class PagerRequest:
    url: str
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict, repr=False)  # holds the key


def dedup_key(inc: Incident) -> str:
    """The incident's key at the pagers (the same for every call about it)."""
    return f"supbot-{inc.id}"


def summary(inc: Incident) -> str:
    """One line saying what happened, in the pagers' alert lists."""
    if inc.kind == "node":
        return f"supbot: node {inc.node} is unreachable"
    if inc.kind == "listener":
        return f"supbot: the event listener of {inc.node} is silent"
    exit_part = f", exit {inc.exitstatus}" if inc.exitstatus is not None else ""
    return f"supbot: {label(inc)} crashed ({inc.state}{exit_part}; incident {inc.id})"


def details(inc: Incident) -> dict[str, Any]:
    return {
        "incident": inc.id,
        "node": inc.node,
        "process": inc.process,
        "state": inc.state,
        "crashes": inc.crashes,
        "exit status": inc.exitstatus,
    }


def note(inc: Incident, action: str) -> str:
    if action == "acknowledge":
        return f"acknowledged in supbot by {inc.acked_by or 'someone'}"
    if inc.status == "resolved":
        return f"resolved by hand in supbot{': ' + inc.note if inc.note else ''}"
    return f"{inc.status} ({inc.state})"


def pagerduty(config: PagerDutySettings, inc: Incident, action: str) -> PagerRequest:
    body: dict[str, Any] = {
        "routing_key": config.routing_key,
        "event_action": action,
        "dedup_key": dedup_key(inc),
    }
    if action == "trigger":
        body["client"] = SOURCE
        body["payload"] = {
            "summary": summary(inc)[:1024],
            "source": inc.node,
            "severity": config.severity,
            "component": inc.process,
            "custom_details": details(inc),
        }
    return PagerRequest(f"{config.url}/v2/enqueue", body)


def opsgenie(config: OpsgenieSettings, inc: Incident, action: str) -> PagerRequest:
    headers = {"Authorization": f"GenieKey {config.api_key}"}
    alias = dedup_key(inc)
    if action == "trigger":
        body: dict[str, Any] = {
            "message": summary(inc)[:130],  # Opsgenie's limit
            "alias": alias,
            "description": summary(inc),
            "source": SOURCE,
            "entity": label(inc),
            "priority": config.priority,
            "details": {k: str(v) for k, v in details(inc).items()},
        }
        return PagerRequest(f"{config.url}/v2/alerts", body, headers)
    verb = OPSGENIE_VERBS[action]
    url = f"{config.url}/v2/alerts/{quote(alias, safe='')}/{verb}?identifierType=alias"
    return PagerRequest(url, {"source": SOURCE, "note": note(inc, action)}, headers)


def request_for(
    config: PagerDutySettings | OpsgenieSettings, inc: Incident, action: str
) -> PagerRequest:
    """The request telling `config`'s pager `action` about `inc`."""
    if isinstance(config, PagerDutySettings):
        return pagerduty(config, inc, action)
    return opsgenie(config, inc, action)
