"""App Home: explicit grants only; clicks from Home authorized against the same bindings."""

from __future__ import annotations

from bot.supervisor.client import NodeClient
from tests.slack.harness import Harness


def test_home_shows_the_processes_of_bindings_naming_the_user(slack: Harness):
    assert slack.home_opened("U0WEBOP").status == 200
    published = slack.fake.wait_call("views.publish")
    assert published.body["user_id"] == "U0WEBOP"
    assert published.body["view"]["type"] == "home"
    assert "web" in published.text() and "worker_00" not in published.text()


def test_star_grants_nothing_on_home(slack: Harness):
    slack.home_opened("U0SOMEONE")
    published = slack.fake.wait_call("views.publish")
    assert "nothing to show" in published.text() or "grants nothing" in published.text()
    assert "worker_00" not in published.text()


def test_a_retried_event_is_published_once(slack: Harness):
    slack.home_opened("U0OPER", "Ev0SAME")
    slack.fake.wait_call("views.publish")
    mark = slack.fake.mark()
    slack.home_opened("U0OPER", "Ev0SAME")
    slack.home_opened("U0OPER", "Ev0OTHER")
    slack.fake.wait_call("views.publish", since=mark)
    assert len(slack.fake.of("views.publish")) == 2


def test_home_restart_by_an_operator_restarts_and_republishes(slack: Harness, supervisor):
    node = NodeClient(supervisor.node())
    before = node.process("worker:worker_00").pid
    slack.home_click("restart worker:worker_00", "U0OPER")
    slack.fake.wait_call("views.publish", "Restarted")
    assert node.process("worker:worker_00").pid != before


def test_home_click_without_an_explicit_grant_is_refused(slack: Harness, supervisor):
    node = NodeClient(supervisor.node())
    before = node.process("worker:worker_00").pid
    slack.home_click("restart worker:worker_00", "U0SOMEONE")
    published = slack.fake.wait_call("views.publish", "worker")
    assert "No process matches" in published.text() or "may not" in published.text()
    assert node.process("worker:worker_00").pid == before
