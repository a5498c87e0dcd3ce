"""manifest.yml declares everything the bot uses."""

from __future__ import annotations

from pathlib import Path

import yaml

from bot.grammar import VERBS

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"


def test_manifest_declares_the_command_home_events_socket_mode_and_scopes():
    m = yaml.safe_load(MANIFEST.read_text())
    commands = {c["command"]: c for c in m["features"]["slash_commands"]}
    assert commands["/sup"]["usage_hint"]
    assert m["features"]["bot_user"]["display_name"]
    assert m["features"]["app_home"]["home_tab_enabled"] is True
    assert m["settings"]["interactivity"]["is_enabled"] is True
    assert "app_home_opened" in m["settings"]["event_subscriptions"]["bot_events"]
    assert m["settings"]["socket_mode_enabled"] is True
    scopes = set(m["oauth_config"]["scopes"]["bot"])
    assert {"commands", "chat:write", "files:write", "usergroups:read"} <= scopes


def test_the_usage_hint_names_only_real_subcommands():
    m = yaml.safe_load(MANIFEST.read_text())
    hint = m["features"]["slash_commands"][0]["usage_hint"]
    words = [part.strip().split()[0] for part in hint.split("·")]
    assert all(w in VERBS for w in words), words
