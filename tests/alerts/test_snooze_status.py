"""Status shows snoozed processes (text and Slack), and stops showing them after unsnooze."""

from __future__ import annotations

import json
import time

from bot.auth import Access
from bot.render.blocks import render_blocks
from bot.render.text import render_text
from bot.replies import StatusReply
from bot.services import Services
from tests.conftest import wait_until


def test_status_shows_a_snooze_until_it_is_cancelled(services: Services) -> None:
    operator = services.authorizer.for_channel("U0OPER", "C0OPS", "slash")
    services.dispatcher.run_text(operator, "snooze web 1h")

    reply = services.dispatcher.run_text(operator, "status")
    assert isinstance(reply, StatusReply)
    assert [label for label, _ in reply.snoozed] == ["web"]
    assert "🔕 web: alerts snoozed until" in render_text(reply)
    blocks = json.dumps([b.to_dict() for b in render_blocks(reply)])
    assert "alerts snoozed: web until <!date^" in blocks

    services.dispatcher.run_text(operator, "unsnooze web")
    reply = services.dispatcher.run_text(operator, "status")
    assert isinstance(reply, StatusReply) and reply.snoozed == ()
    assert "snoozed" not in render_text(reply)


def test_status_does_not_show_snoozes_of_processes_outside_the_binding(services: Services) -> None:
    operator = services.authorizer.for_channel("U0OPER", "C0OPS", "slash")
    services.dispatcher.run_text(operator, "snooze worker 1h")
    web_channel = services.authorizer.for_channel("U0WEBOP", "C0WEB", "slash")
    reply = services.dispatcher.run_text(web_channel, "status")
    assert isinstance(reply, StatusReply) and reply.snoozed == ()


def test_a_snooze_set_through_another_process_shows_within_a_second(services: Services) -> None:
    """Two processes on one state (serve's workers): what status shows beside the processes is
    computed at most once a second per view, so the other process's snooze shows a second
    later at the latest — and at once where it was set."""
    other = Services.build(services.settings)
    try:
        viewer = services.authorizer.for_channel("U0VIEW", "C0OPS", "slash")
        first = services.dispatcher.run_text(viewer, "status")
        assert isinstance(first, StatusReply) and first.snoozed == ()
        operator = other.authorizer.for_channel("U0OPER", "C0OPS", "slash")
        other.dispatcher.run_text(operator, "snooze web 1h")
        there = other.dispatcher.run_text(operator, "status")
        assert isinstance(there, StatusReply) and [s[0] for s in there.snoozed] == ["web"]
        started = time.monotonic()
        wait_until(lambda: _snoozed(services, viewer) == ["web"], 3, 0.05)
        assert time.monotonic() - started <= 1.5
    finally:
        other.close()


def _snoozed(services: Services, access: Access) -> list[str]:
    reply = services.dispatcher.run_text(access, "status")
    assert isinstance(reply, StatusReply)
    return [label for label, _ in reply.snoozed]
