"""The authorization matrix: channels × users × actions × surfaces (slash, button, Home).

Expected outcomes are written out here, from the bindings in tests/conftest.py basic_toml:
  C0OPS: all programs; viewers "*", operators U0OPER, admins U0ADMIN; web is critical.
  C0WEB: web only; viewers "*", operators U0WEBOP.
  C0NONE: no binding. U0VIEWER is named nowhere (a viewer only through "*").
Each row asserts on what Slack received and on what happened to the real process.
"""

from __future__ import annotations

import pytest

from bot.supervisor.client import NodeClient
from tests.conftest import wait_until
from tests.fakes.slack import Call
from tests.slack.harness import Harness

# What the user sees for each outcome (the text Slack received).
SEEN = {
    "done": "Restarted",
    "refused": "may not",
    "unknown": "No process matches",
    "unbound": "not set up",
    "confirm": "--yes",
    "shown": "worker_00",
    "preview": "No changes",
    "nothing": "",  # Home without explicit grants: published, listing no process
}

W0, WEB = "worker:worker_00", "web"

MATRIX = [
    # surface, channel, user, command, expected
    ("slash", "C0OPS", "U0VIEWER", "status", "shown"),
    ("slash", "C0OPS", "U0VIEWER", f"restart {W0}", "refused"),
    ("slash", "C0OPS", "U0WEBOP", f"restart {W0}", "refused"),
    ("slash", "C0OPS", "U0OPER", f"restart {W0}", "done"),
    ("slash", "C0OPS", "U0OPER", "stop web", "confirm"),
    ("slash", "C0OPS", "U0OPER", "reload", "refused"),
    ("slash", "C0OPS", "U0ADMIN", "reload", "preview"),
    ("slash", "C0OPS", "U0ADMIN", f"restart {W0}", "done"),
    ("slash", "C0WEB", "U0VIEWER", f"info {W0}", "unknown"),
    ("slash", "C0WEB", "U0OPER", f"restart {W0}", "unknown"),
    ("slash", "C0WEB", "U0OPER", "restart web", "refused"),
    ("slash", "C0WEB", "U0WEBOP", "restart web", "done"),
    ("slash", "C0WEB", "U0WEBOP", f"restart {W0}", "unknown"),
    ("slash", "C0WEB", "U0ADMIN", "reload", "refused"),
    ("slash", "C0NONE", "U0ADMIN", "status", "unbound"),
    ("slash", "C0NONE", "U0ADMIN", f"restart {W0}", "unbound"),
    ("button", "C0OPS", "U0VIEWER", f"restart {W0}", "refused"),
    ("button", "C0OPS", "U0WEBOP", f"restart {W0}", "refused"),
    ("button", "C0OPS", "U0OPER", f"restart {W0}", "done"),
    ("button", "C0OPS", "U0ADMIN", f"restart {W0}", "done"),
    # the Restart button of a critical process carries --yes: Slack's confirm dialog asked once
    ("button", "C0OPS", "U0OPER", "restart web --yes", "done"),
    ("button", "C0OPS", "U0VIEWER", "restart web --yes", "refused"),
    ("button", "C0OPS", "U0OPER", "reload", "refused"),
    ("button", "C0OPS", "U0ADMIN", "reload", "preview"),
    ("button", "C0WEB", "U0OPER", "restart web", "refused"),
    ("button", "C0WEB", "U0WEBOP", "restart web", "done"),
    ("button", "C0WEB", "U0WEBOP", f"restart {W0}", "unknown"),
    ("button", "C0NONE", "U0OPER", f"restart {W0}", "unbound"),
    ("home", "", "U0VIEWER", "status", "nothing"),
    ("home", "", "U0VIEWER", f"restart {W0}", "unknown"),
    ("home", "", "U0OPER", f"restart {W0}", "done"),
    ("home", "", "U0OPER", "stop web", "confirm"),
    ("home", "", "U0OPER", "reload", "refused"),
    ("home", "", "U0ADMIN", "reload", "preview"),
    ("home", "", "U0WEBOP", "restart web", "done"),
    ("home", "", "U0WEBOP", f"restart {W0}", "unknown"),
]


def target_of(command: str) -> str | None:
    words = command.split()
    if words[0] not in ("restart", "stop"):
        return None
    return {"web": "web:web"}.get(words[1], words[1])


@pytest.mark.parametrize(("surface", "channel", "user", "command", "expected"), MATRIX)
def test_authorization_matrix(
    module_slack: Harness, surface: str, channel: str, user: str, command: str, expected: str
):
    slack, fake = module_slack, module_slack.fake
    assert slack.supervisor is not None
    node = NodeClient(slack.supervisor.node())
    target = target_of(command)
    # Rows share one app: let the previous row's last messages (a click answers in place and
    # in the channel) and its restart finish, so they cannot be taken for this row's.
    fake.settle(quiet=0.3, timeout=10)
    if target:
        wait_until(lambda: node.process(target).state not in ("STARTING", "STOPPING"), 10)
    before = node.process(target).pid if target else None
    mark = fake.mark()
    if surface == "slash":
        sent = slack.slash(command, user=user, channel=channel)
    elif surface == "button":
        sent = slack.click(command, user=user, channel=channel)
    else:
        sent = slack.home_click(command, user=user)
    assert sent.status == 200 and sent.seconds < 3

    def seen(calls: list[Call]) -> Call | None:
        wanted = SEEN[expected]
        for c in calls:
            shown = c.method in ("chat.postMessage", "chat.update", "response", "views.publish")
            if shown and wanted in c.text() and (surface != "home" or c.method == "views.publish"):
                return c
        return None

    call: Call = fake.wait_for(seen, timeout=20, since=mark)
    everything = " ".join(c.text() for c in fake.calls[mark:])
    if expected != "done":
        assert "Restarted" not in everything
    if expected == "nothing":
        assert "worker_00" not in call.text()
    if target:
        after = node.process(target)
        if expected == "done":
            assert after.pid != before and after.state == "RUNNING"
        else:
            assert after.pid == before
    if surface == "home":
        assert call.body.get("user_id") == user
