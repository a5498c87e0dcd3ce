"""Escalation levels and pagers read from [alerts] or from one `[[channels]]` binding, every
problem reported with its key (bot/config_load.py calls these)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from urllib.parse import urlparse

from bot.config import EscalationLevel, OnCallSettings, OpsgenieSettings, PagerDutySettings
from bot.config_reader import Reader, env_string

KEYS = {"escalation", "pagerduty", "opsgenie"}  # in [alerts] and in a binding
SEVERITIES = ("critical", "error", "warning", "info")  # PagerDuty's payload.severity
PRIORITIES = ("P1", "P2", "P3", "P4", "P5")  # Opsgenie's
# Who a level may mention: what the alert renderer can turn into a mention.
MENTION = re.compile(r"[UWS][A-Z0-9]+|here|channel|everyone")


def read_oncall(
    r: Reader, env: Mapping[str, str], one_level: EscalationLevel | None = None
) -> OnCallSettings:
    """The `escalation`, `pagerduty` and `opsgenie` keys of the table `r` reads; `one_level`:
    [alerts] escalate_after/escalate_to, the older one-level form."""
    levels = _levels(r)
    if one_level is not None:
        _check_mention(r, "escalate_to", one_level.to)
        if levels:
            r.problem(
                "escalation",
                "use either escalate_after/escalate_to (one level) or [[alerts.escalation]]",
            )
        levels = (one_level,)
    return OnCallSettings(
        escalation=levels, pagerduty=_pagerduty(r, env), opsgenie=_opsgenie(r, env)
    )


def _levels(top: Reader) -> tuple[EscalationLevel, ...]:
    levels: list[EscalationLevel] = []
    for path, table in top.table_list("escalation"):
        r = Reader(table, path, top.problems, {"after", "to"})
        after = r.duration("after", None)
        to = r.text("to", "", required=True)
        if "after" not in table:
            r.problem("after", 'is required (how long unacked, like "10m")')
        elif after is not None and after <= 0:
            r.problem("after", "must be more than 0")
        _check_mention(r, "to", to)
        if after and levels and after <= levels[-1].after:
            r.problem("after", "must be later than the level before it (levels go in order)")
        if after and to:
            levels.append(EscalationLevel(after, to))
    return tuple(levels)


def _check_mention(r: Reader, key: str, to: str) -> None:
    if to and not MENTION.fullmatch(to):
        r.problem(key, f"{to!r} is not a user ID (U…), user-group ID (S…), 'here' or 'channel'")


def _api(top: Reader, name: str, known: set[str]) -> Reader | None:
    if name not in top.table:
        return None
    return Reader(top.sub(name), top.key(name), top.problems, known | {"url"})


def _url(r: Reader, default: str) -> str:
    url = str(r.text("url", default))
    if urlparse(url).scheme not in ("http", "https"):
        r.problem("url", f"expected an http:// or https:// URL, got {url!r}")
    return url.rstrip("/")


def _pagerduty(top: Reader, env: Mapping[str, str]) -> PagerDutySettings | None:
    r = _api(top, "pagerduty", {"routing_key_env", "severity"})
    if r is None:
        return None
    key = env_string(env, r, "routing_key_env", required=True)
    url = _url(r, "https://events.pagerduty.com")
    severity = r.choice("severity", SEVERITIES, "critical")
    return PagerDutySettings(key, url, severity) if key else None


def _opsgenie(top: Reader, env: Mapping[str, str]) -> OpsgenieSettings | None:
    r = _api(top, "opsgenie", {"api_key_env", "priority"})
    if r is None:
        return None
    key = env_string(env, r, "api_key_env", required=True)
    url = _url(r, "https://api.opsgenie.com")
    priority = r.choice("priority", PRIORITIES, "P1")
    return OpsgenieSettings(key, url, priority) if key else None
