"""Button clicks (block_actions): every click is authorized again for the clicking user."""

from __future__ import annotations

import sys

from bot.supervisor.client import NodeClient
from tests.fakes.slack import buttons
from tests.slack.harness import Harness


def pid(supervisor, name: str) -> int:
    return NodeClient(supervisor.node()).process(name).pid


def test_refresh_replaces_the_message_in_place(slack: Harness):
    answer = slack.click("status").wait_response(slack.fake)
    assert answer.body["replace_original"] is True
    assert "worker_00" in answer.text()


def test_viewer_click_on_restart_is_refused_and_nothing_happens(slack: Harness, supervisor):
    before = pid(supervisor, "worker:worker_00")
    sent = slack.click("restart worker:worker_00", user="U0VIEWER")
    assert sent.status == 200
    answer = sent.wait_response(slack.fake)
    assert "may not restart" in answer.text() and "operator" in answer.text()
    assert pid(supervisor, "worker:worker_00") == before
    assert not slack.fake.of("chat.postMessage")
    refused = [e for e in slack.services.audit.since() if e.outcome == "refused"]
    assert [(e.actor, e.surface, e.action) for e in refused] == [("U0VIEWER", "button", "restart")]


def test_operator_click_on_restart_restarts_and_tells_the_channel(slack: Harness, supervisor):
    before = pid(supervisor, "worker:worker_00")
    sent = slack.click("restart worker:worker_00")
    sent.wait_response(slack.fake, "Restarting")
    outcome = sent.wait_response(slack.fake, "Restarted")
    assert outcome.body["replace_original"] is True
    posted = slack.fake.wait_call("chat.postMessage", "Restarted")
    assert posted.body["channel"] == "C0OPS" and "<@U0OPER>" in posted.text()
    assert pid(supervisor, "worker:worker_00") != before


def test_a_viewer_click_on_a_channel_message_is_answered_privately(slack: Harness):
    answer = slack.click("stop web", user="U0VIEWER", ephemeral=False).wait_response(slack.fake)
    assert answer.body["replace_original"] is False
    assert answer.body["response_type"] == "ephemeral"


def test_a_group_action_asks_to_confirm_and_the_confirm_button_acts(slack: Harness, supervisor):
    before = [pid(supervisor, f"worker:worker_0{i}") for i in (0, 1)]
    question = slack.slash("restart worker").wait_response(slack.fake)
    assert question.body["response_type"] == "ephemeral"
    assert "worker_00" in question.text() and "worker_01" in question.text()
    confirm = next(b for b in buttons(question.body) if "--yes" in b.get("value", ""))
    assert pid(supervisor, "worker:worker_00") == before[0]  # nothing yet
    slack.click(confirm["value"]).wait_response(slack.fake, "Restarted")
    after = [pid(supervisor, f"worker:worker_0{i}") for i in (0, 1)]
    assert after[0] != before[0] and after[1] != before[1]


def test_cancel_dismisses_the_question(slack: Harness):
    answer = slack.click("cancel").wait_response(slack.fake)
    assert "nothing was changed" in answer.text()


def test_a_critical_process_asks_to_confirm_on_the_slash_command(slack: Harness, supervisor):
    before = pid(supervisor, "web")
    question = slack.slash("stop web").wait_response(slack.fake)
    assert "critical" in question.text().lower()
    assert pid(supervisor, "web") == before


def test_share_posts_the_answer_in_the_channel_naming_who_shared_it(slack: Harness):
    sent = slack.click("status", action_id="sup_share")
    posted = slack.fake.wait_call("chat.postMessage", "Shared by <@U0OPER>")
    assert posted.body["channel"] == "C0OPS" and "worker_00" in posted.text()
    assert "sup_share" not in posted.text()
    assert sent.wait_response(slack.fake).body.get("delete_original") is True


def test_share_refuses_to_run_an_action(slack: Harness, supervisor):
    before = pid(supervisor, "worker:worker_00")
    answer = slack.click("restart worker:worker_00", action_id="sup_share").wait_response(
        slack.fake
    )
    assert "read-only" in answer.text()
    assert pid(supervisor, "worker:worker_00") == before


def test_reload_previews_then_apply_adds_the_program(slack: Harness, supervisor):
    supervisor.programs += (
        f'\n[program:extra]\ncommand={sys.executable} -c "import time; time.sleep(1e5)"\n'
        "startsecs=0\n"
    )
    supervisor.write_config()
    preview = slack.slash("reload", user="U0ADMIN").wait_response(slack.fake)
    assert "extra" in preview.text()
    apply = next(b for b in buttons(preview.body) if "--apply" in b.get("value", ""))
    # An operator clicking the admin's Apply button changes nothing.
    refused = slack.click(apply["value"], user="U0OPER").wait_response(slack.fake)
    assert "may not reload" in refused.text()
    names = [p.name for p in NodeClient(supervisor.node()).all_processes()]
    assert "extra" not in names
    slack.click(apply["value"], user="U0ADMIN")
    slack.fake.wait_call("chat.postMessage", "extra", timeout=20)
    names = [p.name for p in NodeClient(supervisor.node()).all_processes()]
    assert "extra" in names


def test_reload_with_no_changes_says_so(slack: Harness):
    answer = slack.slash("reload", user="U0ADMIN").wait_response(slack.fake)
    assert "No changes" in answer.text()


SCOPED_ADMIN = """
[[channels]]
id = "C0WEBADM"
programs = ["web"]
admins = ["U0WEBADM"]
"""


def test_reload_apply_click_is_refused_for_an_admin_of_some_programs(make_slack, supervisor):
    slack: Harness = make_slack(SCOPED_ADMIN)
    supervisor.programs += (
        f'[program:extra]\ncommand={sys.executable} -c "import time; time.sleep(1e5)"\n'
    )
    supervisor.write_config()
    preview = slack.slash("reload", user="U0ADMIN").wait_response(slack.fake, "extra")
    apply = next(b for b in buttons(preview.body) if "--apply" in b.get("value", ""))
    why = "You may not reload `local` here: a reload changes every program on that node"
    refused = slack.slash("reload", user="U0WEBADM", channel="C0WEBADM")
    assert (
        "Bindings that may reload `local`: channel `C0OPS`"
        in refused.wait_response(slack.fake, why).text()
    )
    # the Apply button shown to U0ADMIN, clicked by the web-only admin in their channel
    slack.click(apply["value"], user="U0WEBADM", channel="C0WEBADM").wait_response(slack.fake, why)
    assert "extra" not in {p.group for p in NodeClient(supervisor.node()).all_processes()}
    refused_clicks = [
        e for e in slack.services.audit.since() if e.outcome == "refused" and e.surface == "button"
    ]
    assert [(e.actor, e.action) for e in refused_clicks] == [("U0WEBADM", "reload")]
