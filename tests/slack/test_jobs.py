"""`/sup jobs`, `job run` and `run` through the real Slack app (signed requests, FakeSlack)."""

from __future__ import annotations

from tests.fakes.slack import buttons
from tests.scheduler.conftest import NEVER, command, job
from tests.slack.conftest import MakeHarness

JOBS = job("nightly", "0 3 * * *", 'print("backup done")', timezone='"Europe/Paris"')
JOBS += job("report", NEVER, 'print("report sent")')


def test_sup_jobs_in_slack_shows_dates_in_each_readers_timezone_and_buttons(
    make_slack: MakeHarness,
) -> None:
    slack = make_slack(JOBS)
    sent = slack.slash("jobs")
    assert sent.status == 200 and sent.seconds < 3
    answer = sent.wait_response(slack.fake)
    assert "nightly" in answer.text() and "At 03:00 AM" in answer.text()
    assert "<!date^" in answer.text() and "CET|" not in answer.text()
    values = [b["value"] for b in buttons(answer.body) if b["action_id"].startswith("sup_cmd")]
    assert "job run nightly" in values and "job history report" in values


def test_run_now_button_runs_the_job_and_history_shows_it(
    make_slack: MakeHarness,
) -> None:
    slack = make_slack(JOBS)
    slack.click("job run report", ephemeral=False)
    slack.fake.wait_for(lambda calls: any("report sent" in c.text() for c in calls), 15)
    runs = slack.services.jobs.history_of("report")
    assert runs and runs[0].trigger == "slack" and runs[0].actor == "U0OPER"
    history = slack.slash("job history report").wait_response(slack.fake)
    assert f"#{runs[0].id}" in history.text()


def test_sup_run_refuses_injection_in_slack_and_runs_a_listed_command(
    make_slack: MakeHarness,
    tmp_path,
) -> None:
    marker = tmp_path / "marker"
    code = f'import sys; open("{marker}", "a").write(" ".join(sys.argv[1:]))'
    slack = make_slack(command("mark", code, args="'^[0-9]+$'"))
    refused = slack.slash("run mark 5; id").wait_response(slack.fake)
    assert "refused" in refused.text() and not marker.exists()
    slack.slash("run mark 42")
    slack.fake.wait_for(lambda calls: any("exit code 0" in c.text() for c in calls), 15)
    assert marker.read_text() == "42"
