"""Escalation levels and pagers in the config: what each form means, and every mistake named
with its key."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from bot.alerts.pagers import targets
from bot.alerts.routing import escalation_for
from bot.config import EscalationLevel, Settings
from bot.config_load import parse_settings
from bot.config_reader import ConfigError

NODES = '[[nodes]]\nname = "local"\nurl = "unix:///tmp/none.sock"\n'
ENV = {"PD_KEY": "pd-key-0123456789", "OG_KEY": "og-key-0123456789", "PAY_KEY": "pay-0123456"}

LEVELS = """
[alerts]
channel = "C0ALERT"

[[alerts.escalation]]
after = "10m"
to = "S0FIRST"

[[alerts.escalation]]
after = "30m"
to = "U0BOSS"

[alerts.pagerduty]
routing_key_env = "PD_KEY"

[[channels]]
id = "C0PAY"
programs = ["payments*"]
alerts_channel = "C0PAYALERTS"

[[channels.escalation]]
after = "5m"
to = "S0PAYONCALL"

[channels.opsgenie]
api_key_env = "OG_KEY"
url = "https://api.eu.opsgenie.com/"
"""


def parse(text: str, env: dict[str, str] = ENV) -> Settings:
    return parse_settings(tomllib.loads(NODES + text), Path("/tmp/supbot.toml"), env)


def problems(text: str, env: dict[str, str] = ENV) -> list[str]:
    with pytest.raises(ConfigError) as exc:
        parse(text, env)
    return exc.value.problems


def test_levels_and_pagers_of_alerts_and_of_a_binding() -> None:
    settings = parse(LEVELS)
    assert escalation_for(settings, "local", "web:web") == (
        EscalationLevel(600, "S0FIRST"),
        EscalationLevel(1800, "U0BOSS"),
    )
    assert escalation_for(settings, "local", "payments:payments") == (
        EscalationLevel(300, "S0PAYONCALL"),
    )
    assert escalation_for(settings, "local", "*") == settings.alerts.oncall.escalation
    assert targets(settings, "local", "web:web") == [("pagerduty", "")]
    assert targets(settings, "local", "payments:payments") == [
        ("pagerduty", ""),
        ("opsgenie", "C0PAY"),
    ]
    binding = settings.binding("C0PAY")
    assert binding is not None and binding.oncall.opsgenie is not None
    assert binding.oncall.opsgenie.url == "https://api.eu.opsgenie.com"
    assert "pd-key" not in repr(settings)  # keys never in a log line or traceback


def test_the_one_level_form_is_still_one_level() -> None:
    settings = parse('[alerts]\nescalate_after = "10m"\nescalate_to = "S0SECONDLINE"\n')
    assert settings.alerts.oncall.escalation == (EscalationLevel(600, "S0SECONDLINE"),)


@pytest.mark.parametrize(
    ("snippet", "expected"),
    [
        (
            '[alerts]\nescalate_after = "10m"\nescalate_to = "S0A"\n'
            '[[alerts.escalation]]\nafter = "5m"\nto = "S0B"\n',
            "alerts.escalation: use either escalate_after/escalate_to",
        ),
        (
            '[[alerts.escalation]]\nafter = "30m"\nto = "S0A"\n'
            '[[alerts.escalation]]\nafter = "10m"\nto = "S0B"\n',
            "alerts.escalation[1].after: must be later than the level before it",
        ),
        ('[[alerts.escalation]]\nto = "S0A"\n', "alerts.escalation[0].after: is required"),
        (
            '[[alerts.escalation]]\nafter = "10m"\nto = "#oncall"\n',
            "alerts.escalation[0].to: '#oncall' is not a user ID",
        ),
        (
            '[[alerts.escalation]]\nafter = "ten"\nto = "S0A"\n',
            "alerts.escalation[0].after:",
        ),
        (
            '[alerts]\nescalate_after = "10m"\nescalate_to = "oncall-team"\n',
            "alerts.escalate_to: 'oncall-team' is not a user ID",
        ),
        (
            '[alerts.pagerduty]\nrouting_key_env = "NOPE"\n',
            "alerts.pagerduty.routing_key_env: environment variable NOPE is not set",
        ),
        ("[alerts.pagerduty]\n", "alerts.pagerduty.routing_key_env: is required"),
        (
            '[alerts.pagerduty]\nrouting_key_env = "PD_KEY"\nseverity = "high"\n',
            "alerts.pagerduty.severity: must be one of critical, error, warning, info",
        ),
        (
            '[alerts.opsgenie]\napi_key_env = "OG_KEY"\nurl = "api.opsgenie.com"\n',
            "alerts.opsgenie.url: expected an http:// or https:// URL",
        ),
        (
            '[alerts.opsgenie]\napi_key = "OG_KEY"\n',
            "alerts.opsgenie.api_key: unknown key (did you mean 'api_key_env'?)",
        ),
        (
            '[[channels]]\nid = "C0PAY"\n[channels.pagerduty]\nrouting_key_env = "PAY_KEY"\n',
            "channels[0].pagerduty: applies to the incidents of the binding's alerts_channel",
        ),
    ],
)
def test_mistakes_are_named_with_their_key(snippet: str, expected: str) -> None:
    found = problems(snippet)
    assert any(p.startswith(expected) for p in found), found
