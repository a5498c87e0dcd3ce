"""`/sup` end to end: signed slash commands over HTTP to the real app, real supervisord."""

from __future__ import annotations

import json
import time

from bot.supervisor.client import NodeClient
from tests.fakes.slack import buttons
from tests.slack.harness import SECRET, Harness, signed_headers, slash_body


def test_status_is_acked_at_once_and_answered_privately_with_a_share_button(slack: Harness):
    sent = slack.slash("status")
    assert sent.status == 200 and sent.seconds < 3
    assert sent.body == ""  # nothing shown until the answer arrives
    answer = sent.wait_response(slack.fake)
    assert answer.body["response_type"] == "ephemeral"
    assert "worker_00" in answer.text() and "web" in answer.text()
    share = [b for b in buttons(answer.body) if b["action_id"] == "sup_share"]
    assert share and share[0]["value"] == "status"
    assert not slack.fake.of("chat.postMessage")  # read-only: nothing in the channel


def test_info_describes_the_process(slack: Harness):
    answer = slack.slash("info web").wait_response(slack.fake)
    assert answer.body["response_type"] == "ephemeral"
    assert "RUNNING" in answer.text()


def test_tail_shows_the_last_log_lines(slack: Harness):
    answer = slack.slash("tail web 5").wait_response(slack.fake)
    assert "web line" in answer.text()


def test_tail_grep_answers_the_matching_lines_or_why_the_pattern_is_refused(slack: Harness):
    answer = slack.slash("tail web 3 --grep 'LINE \\d+ caf' -i").wait_response(slack.fake)
    assert "3 matching lines" in answer.text() and "searched the whole log" in answer.text()
    assert str(answer.body["blocks"]).count("web line") == 3
    refused = slack.slash("tail web --grep '(a+)+'").wait_response(slack.fake)
    assert "repeats a group that itself repeats" in refused.text()
    assert "Traceback" not in refused.text()


def test_restart_shows_progress_then_the_outcome_in_the_channel(slack: Harness, supervisor):
    node = NodeClient(supervisor.node())
    before = node.process("worker:worker_00").pid
    sent = slack.slash("restart worker:worker_00")
    assert sent.status == 200 and sent.seconds < 3
    progress = slack.fake.wait_call("chat.postMessage", "Restarting")
    assert progress.body["channel"] == "C0OPS"
    outcome = slack.fake.wait_call("chat.update", "Restarted")
    assert "<@U0OPER>" in outcome.text()
    after = node.process("worker:worker_00")
    assert after.state == "RUNNING" and after.pid != before


def test_a_failed_start_shows_the_spawn_error_and_the_log(slack: Harness):
    slack.slash("start broken")
    outcome = slack.fake.wait_call("chat.update", "broken", timeout=20)
    assert "boom: cannot connect to db" in outcome.text()


def test_unknown_subcommand_suggests_the_nearest(slack: Harness):
    answer = slack.slash("restrat web").wait_response(slack.fake)
    assert "restart" in answer.text() and answer.body["response_type"] == "ephemeral"


def test_unbound_channel_is_told_where_to_configure_it(slack: Harness):
    answer = slack.slash("status", channel="C0NOWHERE").wait_response(slack.fake)
    assert "not set up" in answer.text() and "C0NOWHERE" in answer.text()


def test_direct_messages_are_refused_unless_allowed(slack: Harness):
    answer = slack.slash("status", channel="D0DIRECT").wait_response(slack.fake)
    assert "direct messages" in answer.text()


def test_a_forged_signature_is_rejected(slack: Harness):
    body = slash_body("restart web", "U0OPER", "C0OPS", slack.fake.response_url())
    sent = slack.send(body, "application/x-www-form-urlencoded", signed_headers(body, "wrong"))
    assert sent.status == 401
    assert not slack.fake.of("response") and not slack.fake.of("chat.postMessage")


def test_a_stale_signature_is_rejected(slack: Harness):
    body = slash_body("status", "U0OPER", "C0OPS", slack.fake.response_url())
    old = int(time.time()) - 6 * 60
    sent = slack.send(body, "application/x-www-form-urlencoded", signed_headers(body, SECRET, old))
    assert sent.status == 401


def test_a_tampered_body_is_rejected(slack: Harness):
    body = slash_body("status", "U0OPER", "C0OPS", slack.fake.response_url())
    headers = signed_headers(body)
    tampered = body.replace("status", "stop+web")
    assert slack.send(tampered, "application/x-www-form-urlencoded", headers).status == 401


def test_healthz_answers(slack: Harness):
    assert slack.healthz() == 200


def test_node_down_is_one_sentence_not_a_traceback(slack: Harness, supervisor):
    supervisor.stop()
    answer = slack.slash("info web").wait_response(slack.fake, timeout=10)
    assert "node `local` unreachable" in answer.text()
    assert "Traceback" not in json.dumps(answer.body)
