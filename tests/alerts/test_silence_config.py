"""Routing keys and [[silences]] windows: clear config errors; window slots in force."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.alerts.routing import job_channel, mention_for, router, wants
from bot.alerts.silence_match import covers
from bot.alerts.silencing import due_slot
from bot.config import SilenceWindow
from bot.config_load import parse_settings
from bot.config_reader import ConfigError

NODES = {"nodes": [{"name": "app1", "url": "unix:///tmp/x.sock"}]}


def _parse(**more: object) -> object:
    return parse_settings({**NODES, **more}, Path("supbot.toml"), {})


def _problems(**more: object) -> str:
    with pytest.raises(ConfigError) as caught:
        _parse(**more)
    return "\n".join(caught.value.problems)


def test_unknown_event_kinds_are_named_with_the_known_ones() -> None:
    channels = [{"id": "C0WEB", "alerts_channel": "C0A", "alert_on": ["crashes", "fatal"]}]
    said = _problems(channels=channels, alerts={"alert_on": ["down"]})
    assert "channels[0].alert_on: unknown event kind 'crashes'; use some of crash, fatal" in said
    assert "alerts.alert_on: unknown event kind 'down'" in said


def test_bad_maintenance_windows_say_what_is_wrong() -> None:
    said = _problems(
        silences=[
            {"schedule": "at 2", "match": "web"},
            {"schedule": "0 2 * * 0", "for": "5s", "match": "web", "when": 1},
        ]
    )
    assert "silences[0].schedule: invalid cron expression 'at 2'" in said
    assert 'silences[0].for: required: how long each window lasts, like "1h"' in said
    assert "silences[1].for: must be between 1m and 7d" in said
    assert "silences[1].when: unknown key" in said


def test_routing_takes_include_exclude_alert_on_and_mention_per_binding() -> None:
    settings = _parse(
        alerts={"channel": "C0ALL", "mention": "S0ALL", "alert_on": ["fatal", "node_down"]},
        channels=[
            {"id": "C0WEB", "programs": ["web*"], "alerts_exclude": ["web_canary"],
             "alerts_channel": "C0WEBA", "alert_on": ["crash"], "mention": "S0WEB",
             "jobs": ["backup*"]},
        ],
    )  # fmt: skip
    route, wanted = router(settings), wants(settings)  # type: ignore[arg-type]
    assert route("app1", "web:web") == "C0WEBA"
    assert route("app1", "web_canary:web_canary") == "C0ALL"
    assert wanted("app1", "web:web", "crash") and not wanted("app1", "web:web", "fatal")
    assert not wanted("app1", "web_canary:web_canary", "crash")
    assert mention_for(settings, "app1", "web:web") == "S0WEB"  # type: ignore[arg-type]
    assert mention_for(settings, "app1", "other:other") == "S0ALL"  # type: ignore[arg-type]
    assert job_channel(settings, "backup-db", "job_failed") is None  # type: ignore[arg-type]
    assert job_channel(settings, "report", "missed") is None  # type: ignore[arg-type]


def test_a_window_is_in_force_from_its_slot_for_its_duration() -> None:
    sunday_2am = SilenceWindow("0 2 * * 0", 3600.0, "web*")
    utc = ZoneInfo("UTC")
    slot = 1_767_492_000.0  # Sunday 2026-01-04 02:00 UTC
    assert due_slot(sunday_2am, utc, slot) == slot
    assert due_slot(sunday_2am, utc, slot + 3599) == slot
    assert due_slot(sunday_2am, utc, slot + 3600) is None
    assert due_slot(sunday_2am, utc, slot - 1) is None


def test_what_a_silence_names() -> None:
    assert covers("web*", "app1", "web:web") and covers("web*", "app1", "webhooks:hook_0")
    assert not covers("web*", "app1", "worker:worker_0")
    assert covers("@app1", "app1", "worker:worker_0") and covers("@app1", "app1", "*")
    assert not covers("@app1", "app2", "*") and not covers("web", "app1", "*")
    assert covers("worker", "app1", "worker:worker_3") and not covers("web@app2", "app1", "web:web")
