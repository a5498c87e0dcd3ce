"""Status shows snoozed processes (text and Slack), and stops showing them after unsnooze."""

from __future__ import annotations

import json

from bot.render.blocks import render_blocks
from bot.render.text import render_text
from bot.replies import StatusReply
from bot.services import Services


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
