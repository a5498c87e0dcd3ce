"""`/sup run` through the real Slack app: one channel message edited as the output comes,
then the exit code; long output in a file; refusals private, before anything runs."""

from __future__ import annotations

import json
import sys

import pytest

from tests.fakes.slack import Call, buttons
from tests.scheduler.test_laravel import source
from tests.slack.conftest import MakeHarness


def command(name: str, code: str, extra: str = "") -> str:
    argv = json.dumps([sys.executable, "-u", "-c", code])  # a JSON array is a TOML array
    return f'\n[[commands]]\nname = "{name}"\ncommand = {argv}\n{extra}'


COUNT = command("count", "import time\nfor i in range(5): print(i, flush=True); time.sleep(1)")
LONG = command(
    "long",
    "print('password=hunter2secret')\nfor i in range(120): print(f'line {i:03d} ' + 'x' * 60)",
)
FAST = command("fast", "print('hello from fast')")


def outcome(call: Call) -> bool:
    return call.method == "chat.update" and "exit code" in call.text()


def test_sup_run_edits_one_channel_message_with_partial_output_then_the_exit_code(
    make_slack: MakeHarness,
) -> None:
    slack = make_slack(COUNT)
    sent = slack.slash("run count")
    assert sent.status == 200 and sent.seconds < 3
    final = slack.fake.wait_for(lambda calls: next(filter(outcome, calls), None), 15)
    posted = slack.fake.of("chat.postMessage")
    assert len(posted) == 1 and posted[0].body["channel"] == "C0OPS"
    assert "running" in posted[0].text() and "<@U0OPER>" in posted[0].text()
    ts = posted[0].answer["ts"]
    updates = slack.fake.of("chat.update")
    assert all(u.body["ts"] == ts and u.body["channel"] == "C0OPS" for u in updates)
    partial = [u for u in updates if "running" in u.text() and "```0" in u.text()]
    assert partial and partial[0].at < final.at
    assert updates[-1] is final
    assert "exit code 0 in " in final.text() and r"```0\n1\n2\n3\n4```" in final.text()
    assert [b["value"] for b in buttons(final.body)] == ["run count"]
    # Edits are paced: never closer than a few seconds (chat.update allows ~50 a minute).
    times = [posted[0].at] + [u.at for u in updates if u is not final]
    assert all(b - a >= 2.5 for a, b in zip(times, times[1:], strict=False))
    assert not sent.responses(slack.fake)  # nothing private: the team sees the run


def test_long_output_goes_up_as_a_file_in_the_thread_redacted(make_slack: MakeHarness) -> None:
    slack = make_slack(LONG)
    slack.slash("run long")
    final = slack.fake.wait_for(lambda calls: next(filter(outcome, calls), None), 15)
    ts = slack.fake.of("chat.postMessage")[0].answer["ts"]
    done = slack.fake.wait_call("files.completeUploadExternal")
    assert done.body["channel_id"] == "C0OPS" and done.body["thread_ts"] == ts
    assert json.loads(done.body["files"])[0]["title"].startswith("Output of long (exit code 0)")
    uploaded = slack.fake.wait_call("upload").body["raw"]
    assert uploaded.startswith("line 020") and uploaded.endswith("line 119 " + "x" * 60)
    assert "The last 100 lines of output are in the file in this message" in final.text()
    assert "exit code 0" in final.text()
    assert "line 119" in final.text()  # the message keeps the newest lines
    assert not any("hunter2secret" in c.text() for c in slack.fake.calls)
    assert "hunter2secret" not in uploaded


def test_refusals_are_private_sentences_audited_and_nothing_runs(
    make_slack: MakeHarness,
) -> None:
    slack = make_slack(FAST)
    viewer = slack.slash("run fast", user="U0VIEWER").wait_response(slack.fake)
    assert viewer.body["response_type"] == "ephemeral" and "may not run" in viewer.text()
    unknown = slack.slash("run fats").wait_response(slack.fake)
    assert "Did you mean `fast`?" in unknown.text()
    args = slack.slash("run fast 5").wait_response(slack.fake)
    assert "takes no arguments" in args.text()
    elsewhere = slack.slash("run fast", user="U0WEBOP", channel="C0WEB").wait_response(slack.fake)
    assert "No command `fast` here" in elsewhere.text()
    assert not slack.fake.of("chat.postMessage") and not slack.fake.of("chat.update")
    refused = [(e.actor, e.action) for e in slack.services.audit.since() if e.outcome == "refused"]
    assert refused == [
        ("U0VIEWER", "run"),
        ("U0OPER", "run"),
        ("U0OPER", "run"),
        ("U0WEBOP", "run"),
    ]


def test_run_again_button_posts_a_new_streamed_message_and_keeps_the_old_one(
    make_slack: MakeHarness,
) -> None:
    slack = make_slack(FAST)
    sent = slack.click("run fast", ephemeral=False)
    assert sent.status == 200
    final = slack.fake.wait_for(lambda calls: next(filter(outcome, calls), None), 15)
    assert "hello from fast" in final.text() and "exit code 0" in final.text()
    posted = slack.fake.of("chat.postMessage")
    assert len(posted) == 1 and final.body["ts"] == posted[0].answer["ts"]
    assert not sent.responses(slack.fake)  # the message that held the button is left as it was
    viewer = slack.click("run fast", user="U0VIEWER", ephemeral=False).wait_response(slack.fake)
    assert viewer.body["response_type"] == "ephemeral" and "may not run" in viewer.text()
    assert len(slack.fake.of("chat.postMessage")) == 1


def test_laravel_schedule_run_at_node_streams_like_sup_run_and_refuses_privately(
    make_slack: MakeHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FAKE_ARTISAN_LISTING", "v12_json.json")
    slack = make_slack(source())
    sent = slack.slash("schedule run @local")
    assert sent.status == 200 and sent.seconds < 3
    final = slack.fake.wait_for(lambda calls: next(filter(outcome, calls), None), 15)
    posted = slack.fake.of("chat.postMessage")
    assert len(posted) == 1 and "schedule run @local" in posted[0].text()
    assert "exit code 0 in " in final.text() and "foobar a=" in final.text()
    assert [b["value"] for b in buttons(final.body)] == ["schedule run @local"]
    refused = slack.slash("schedule run @nowhere").wait_response(slack.fake)
    assert refused.body["response_type"] == "ephemeral"
    assert "No job source runs on `@nowhere`" in refused.text()
    assert len(slack.fake.of("chat.postMessage")) == 1  # nothing posted for the refusal
