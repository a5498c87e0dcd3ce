"""Text a user typed cannot pass for supbot's own words: not in replies, not in the audit
channel (a newline + a fake audit line, backticks, <!channel>, *bold*, RTL override,
zero-width characters)."""

from __future__ import annotations

import sys

from tests.slack.harness import Harness

FAKE_LINE = "web\n`restart` `db@prod` by <@U0ADMIN> via slash — ok <!channel> *bold*"
MARK = f"""
[audit]
channel = "C0AUDIT"

[[commands]]
name = "echo"
command = ["{sys.executable}", "-c", "import sys; print(sys.argv[1:])"]
args = ".*"
"""


def _to(channel: str):
    return lambda call: call.body.get("channel") == channel


def _audit_lines(slack: Harness) -> list[str]:
    return [c.body["text"] for c in slack.fake.of("chat.postMessage") if _to("C0AUDIT")(c)]


def test_a_refused_target_with_a_fake_audit_line_stays_one_quoted_line(make_slack) -> None:
    slack: Harness = make_slack(MARK)
    # An unbound channel refuses before any lookup, and audits the target as typed.
    slack.slash(f'stop "{FAKE_LINE}"', channel="C0ELSEWHERE").wait_response(slack.fake)
    slack.fake.wait_call("chat.postMessage", "refused", where=_to("C0AUDIT"))
    (line,) = _audit_lines(slack)
    assert "\n" not in line
    assert "<!channel>" not in line and "&lt;!channel&gt;" in line
    assert "<@U0ADMIN>" not in line  # the only mention is the real actor
    assert line.startswith("`stop` `web\\nˋrestartˋ ˋdb@prodˋ by &lt;@U0ADMIN&gt;")
    assert line.count("`") == 6  # three code spans: action, target, error; none broken open
    assert "by <@U0OPER> in <#C0ELSEWHERE> via slash — refused" in line


def test_no_such_process_echoes_the_name_inert(make_slack) -> None:
    slack: Harness = make_slack()
    name = "nosuch\u202e*bold*\u200b`x`"
    reply = slack.slash(f"restart '{name}'").wait_response(slack.fake, "No process matches")
    shown = reply.body["blocks"][0]["text"]["text"]
    assert "`nosuch\\u202e*bold*\\u200bˋxˋ`" in shown
    assert "\u202e" not in reply.text() and "\u200b" not in reply.text()


def test_run_with_an_invisible_character_in_an_argument_is_refused(make_slack) -> None:
    slack: Harness = make_slack(MARK)
    reply = slack.slash("run echo 'abc\u202edef'").wait_response(slack.fake, "refused")
    assert "U+202E" in reply.text() and "plain text" in reply.text()
    slack.fake.wait_call("chat.postMessage", "refused", where=_to("C0AUDIT"))
    (line,) = _audit_lines(slack)
    assert "\u202e" not in line and "abc\\u202edef" in line
