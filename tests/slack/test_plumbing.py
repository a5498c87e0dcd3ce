"""Slack plumbing around the commands: follow, file uploads, audit channel, user groups,
rate limits, and the apology for bugs."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bot.embedded import EmbeddedSupervisor
from bot.errors import SupbotError
from bot.slack.serve import build_services
from bot.supervisor.client import NodeClient
from tests.conftest import basic_toml, free_port, make_settings, short_tmp, wait_until
from tests.fakes.slack import FakeSlack, buttons
from tests.slack.harness import Harness, slack_env


def test_follow_edits_one_channel_message_until_stopped(make_slack):
    slack: Harness = make_slack(follow_interval=0.3, follow_duration=60)
    slack.slash("tail web 5 --follow")
    posted = slack.fake.wait_call("chat.postMessage", "Following")
    assert posted.body["channel"] == "C0OPS"
    stop = next(b for b in buttons(posted.body) if b["text"]["text"] == "Stop")
    first = slack.fake.wait_call("chat.update", "web line", since=slack.fake.mark())
    assert first.body["ts"] == posted.answer["ts"]  # the same message, edited
    slack.click(stop["value"], user="U0VIEWER", ephemeral=False)
    final = slack.fake.wait_call("chat.update", "stopped by <@U0VIEWER>")
    assert "Stop" not in json.dumps(buttons(final.body))


def test_follow_stops_by_itself_after_its_duration(make_slack):
    slack: Harness = make_slack(follow_interval=0.2, follow_duration=1)
    slack.slash("tail worker:worker_00 --follow")
    slack.fake.wait_call("chat.update", "stopped after", timeout=10)


def test_audit_channel_gets_one_line_per_action(make_slack):
    slack: Harness = make_slack('[audit]\nchannel = "C0AUDIT"')
    _one_line_per_action(slack)


def _one_line_per_action(slack: Harness) -> None:
    slack.slash("restart worker:worker_00")
    slack.click("stop web --yes", user="U0VIEWER")
    restart = slack.fake.wait_call("chat.postMessage", "`restart`", where=_to("C0AUDIT"))
    assert "<@U0OPER>" in restart.text() and "ok" in restart.text()
    refused = slack.fake.wait_call("chat.postMessage", "refused", where=_to("C0AUDIT"))
    assert "`stop`" in refused.text() and "<@U0VIEWER>" in refused.text()
    lines = [c for c in slack.fake.of("chat.postMessage") if c.body["channel"] == "C0AUDIT"]
    assert len(lines) == 2


def _to(channel: str):
    return lambda call: call.body.get("channel") == channel


def test_user_group_members_get_the_groups_role_and_membership_is_cached(
    supervisor, tmp_path, fake_slack: FakeSlack
):
    fake_slack.usergroups["S0ONCALL"] = ["U0GROUPIE"]
    toml = basic_toml(supervisor).replace('operators = ["U0OPER"]', 'operators = ["S0ONCALL"]')
    services = build_services(make_settings(tmp_path, toml, slack_env(fake_slack)))
    slack = Harness(fake_slack, services)
    try:
        node = NodeClient(supervisor.node())
        before = node.process("worker:worker_00").pid
        slack.slash("restart worker:worker_00", user="U0GROUPIE")
        slack.fake.wait_call("chat.update", "Restarted")
        assert node.process("worker:worker_00").pid != before
        slack.slash("restart worker:worker_01", user="U0OPER").wait_response(fake_slack, "may not")
        assert len(fake_slack.of("usergroups.users.list")) == 1
    finally:
        slack.close()
        services.close()


def test_actions_fail_closed_while_slack_cannot_confirm_group_membership(
    supervisor, tmp_path, fake_slack: FakeSlack
):
    fake_slack.usergroups["S0ONCALL"] = ["U0GROUPIE"]
    toml = basic_toml(supervisor, '[slack]\nusergroup_ttl = "0s"')  # every check asks Slack
    toml = toml.replace('viewers = ["*"]\noperators = ["U0OPER"]', 'operators = ["S0ONCALL"]')
    services = build_services(make_settings(tmp_path, toml, slack_env(fake_slack)))
    slack = Harness(fake_slack, services)
    try:
        node = NodeClient(supervisor.node())
        slack.slash("restart worker:worker_00", user="U0GROUPIE")
        slack.fake.wait_call("chat.update", "Restarted")
        fake_slack.fail("usergroups.users.list", 500, "internal_error")
        before = node.process("worker:worker_00").pid
        refusal = (
            "can't confirm your membership of @S0ONCALL right now (Slack: internal_error) "
            "— actions need it; try again shortly"
        )
        slack.slash("restart worker:worker_00", user="U0GROUPIE").wait_response(fake_slack, refusal)
        slack.click("stop worker:worker_00 --yes", user="U0GROUPIE").wait_response(
            fake_slack, refusal
        )
        # viewing stays open on the last known membership
        shown = slack.slash("status worker", user="U0GROUPIE").wait_response(fake_slack)
        assert "worker_00" in shown.text() and "may not" not in shown.text()
        assert node.process("worker:worker_00").pid == before
        # U0ADMIN, named directly, keeps acting: only the group membership is in doubt
        slack.slash("restart worker:worker_01", user="U0ADMIN")
        slack.fake.wait_call("chat.update", "Restarted", since=0, where=_by("U0ADMIN"))
    finally:
        slack.close()
        services.close()


def _by(user: str):
    return lambda call: user in call.text()


def test_a_rate_limited_post_is_retried(slack: Harness):
    slack.fake.rate_limit("chat.postMessage", 1)
    slack.slash("restart worker:worker_00")
    slack.fake.wait_call("chat.update", "Restarted", timeout=20)
    assert len(slack.fake.of("chat.postMessage")) == 2  # the 429, then the retry


def test_a_bug_gets_a_one_line_apology_with_an_error_id(slack: Harness, caplog):
    def broken(access, command):
        raise RuntimeError("boom")

    slack.services.dispatcher.register("status", broken)
    answer = slack.slash("status").wait_response(slack.fake)
    assert "Sorry, something went wrong (error" in answer.text()
    assert "boom" not in answer.text() and "Traceback" not in answer.text()


def test_expected_errors_are_sentences(slack: Harness):
    def refuses(access, command):
        raise SupbotError("That is not possible right now.")

    slack.services.dispatcher.register("status", refuses)
    answer = slack.slash("status").wait_response(slack.fake)
    assert "That is not possible right now." in answer.text()


def test_a_long_tail_is_uploaded_as_a_file(tmp_path: Path, fake_slack: FakeSlack):
    chatty = (
        f'[program:chatty]\ncommand={sys.executable} -u -c "import time; '
        "[print('chatty line %%04d with some padding to make it longer' %% i) for i in range(400)]; "
        'time.sleep(1e5)"\nstartsecs=0\n'
    )
    sv = EmbeddedSupervisor(short_tmp() / "sv", chatty, http_port=free_port()).start()
    toml = basic_toml(sv).replace('critical = ["web"]', "critical = []")
    services = build_services(make_settings(tmp_path, toml, slack_env(fake_slack)))
    slack = Harness(fake_slack, services)
    try:
        node = NodeClient(sv.node())
        wait_until(lambda: any("0399" in x for x in node.tail("chatty:chatty", 5).lines), 10)
        answer = slack.slash("tail chatty 400").wait_response(fake_slack, timeout=15)
        assert "uploaded" in answer.text() and "chatty line 0399" in answer.text()
        upload = fake_slack.wait_call("files.completeUploadExternal")
        assert upload.body["channel_id"] == "C0OPS"
        content = fake_slack.wait_call("upload").text()
        assert "chatty line 0000" in content and "chatty line 0399" in content
    finally:
        slack.close()
        services.close()
        sv.stop()


def test_direct_messages_when_allowed_use_explicit_grants_only(make_slack, supervisor):
    slack: Harness = make_slack("[slack]\nallow_dm = true")
    node = NodeClient(supervisor.node())
    before = node.process("worker:worker_00").pid
    slack.slash("restart worker:worker_00", user="U0OPER", channel="D0DIRECT")
    slack.fake.wait_call("chat.update", "Restarted")
    assert node.process("worker:worker_00").pid != before
    # "*" makes U0VIEWER a viewer in C0OPS, but grants nothing in a DM.
    answer = slack.slash("info worker:worker_00", user="U0VIEWER", channel="D0DIRECT")
    assert "No process matches" in answer.wait_response(slack.fake).text()
