"""`tail --follow` across processes: the follow is in the shared state, so a Stop click taken by
another worker or replica (its own app, Services and Store on the same database) stops it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.slack.serve import build_services
from tests.conftest import basic_toml, make_settings, storage_settings, storage_toml
from tests.fakes.slack import FakeSlack, buttons
from tests.slack.harness import Harness, slack_env


@pytest.fixture
def two_processes(
    engine: str, supervisor, tmp_path: Path, fake_slack: FakeSlack, request
) -> Iterator[tuple[Harness, Harness]]:
    """Two apps as two processes would run them: nothing shared but the state database."""
    storage = storage_toml(storage_settings(engine, tmp_path, request))
    toml = basic_toml(supervisor).replace('[storage]\ndir = "state"\n', storage)
    made = []
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
        services = build_services(make_settings(tmp_path / name, toml, slack_env(fake_slack)))
        made.append(Harness(fake_slack, services, follow_interval=0.3, follow_duration=60))
    yield made[0], made[1]
    for harness in made:
        harness.close()
        harness.services.close()


def test_follow_started_on_one_process_is_stopped_by_a_click_on_another(two_processes):
    one, two = two_processes
    one.slash("tail web 5 --follow")
    posted = one.fake.wait_call("chat.postMessage", "Following")
    stop = next(b for b in buttons(posted.body) if b["text"]["text"] == "Stop")
    one.fake.wait_call("chat.update", "web line", since=one.fake.mark())  # still refreshing
    click = two.click(stop["value"], user="U0VIEWER", ephemeral=False)
    final = one.fake.wait_call("chat.update", "stopped by <@U0VIEWER>")
    assert final.body["ts"] == posted.answer["ts"]
    assert "Stop" not in json.dumps(buttons(final.body))
    assert click.status == 200 and click.responses(one.fake) == []  # no "not followed" notice


def test_a_second_stop_click_anywhere_says_the_log_is_no_longer_followed(two_processes):
    one, two = two_processes
    one.slash("tail web 5 --follow")
    posted = one.fake.wait_call("chat.postMessage", "Following")
    stop = next(b for b in buttons(posted.body) if b["text"]["text"] == "Stop")
    one.click(stop["value"], user="U0OPER", ephemeral=False)
    one.fake.wait_call("chat.update", "stopped by <@U0OPER>")
    again = two.click(stop["value"], user="U0VIEWER", ephemeral=False)
    again.wait_response(one.fake, "no longer being followed")
