"""The audit channel shows one line per action, with its outcome: an attempt on record while
the action runs is posted once it is completed, not as a second, confusing line."""

from __future__ import annotations

import sys

from tests.slack.harness import Harness

SLOW = f"""
[audit]
channel = "C0AUDIT"

[[commands]]
name = "slow"
command = ["{sys.executable}", "-c", "import time; time.sleep(4.5); print('done')"]
"""


def test_a_slow_command_is_one_audit_line_with_its_outcome(make_slack) -> None:
    slack: Harness = make_slack(SLOW)
    slack.slash("run slow")
    slack.fake.wait_call("chat.update", "exit code 0", timeout=20)
    line = slack.fake.wait_call(
        "chat.postMessage", "`run`", where=lambda c: c.body["channel"] == "C0AUDIT"
    )
    # Without the hold this row would have gone out as "started" while the command ran.
    assert "`slow` by <@U0OPER> in <#C0OPS> via slash — ok (4." in line.body["text"]
    lines = [c for c in slack.fake.of("chat.postMessage") if c.body["channel"] == "C0AUDIT"]
    assert len(lines) == 1 and "started" not in lines[0].body["text"]
