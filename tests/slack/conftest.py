"""Fixtures for the Slack tests: FakeSlack, and the real app over HTTP on real supervisord."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from bot.embedded import EmbeddedSupervisor
from bot.slack.serve import build_services
from tests.conftest import (
    basic_toml,
    make_settings,
    start_sample,
)
from tests.fakes.slack import FakeSlack
from tests.slack.harness import Harness, slack_env


@pytest.fixture
def fake_slack() -> Iterator[FakeSlack]:
    fake = FakeSlack().start()
    yield fake
    fake.stop()


MakeHarness = Callable[..., Harness]


@pytest.fixture
def make_slack(
    supervisor: EmbeddedSupervisor, tmp_path: Path, fake_slack: FakeSlack
) -> Iterator[MakeHarness]:
    """`make_slack(extra_toml, **bot_options)` → a running Harness (closed after the test)."""
    made: list[Harness] = []

    def make(extra: str = "", **options: object) -> Harness:
        settings = make_settings(tmp_path, basic_toml(supervisor, extra), slack_env(fake_slack))
        harness = Harness(fake_slack, build_services(settings), **options)
        made.append(harness)
        return harness

    yield make
    for harness in made:
        harness.close()
        harness.services.close()


@pytest.fixture
def slack(make_slack: MakeHarness) -> Harness:
    return make_slack()


@pytest.fixture(scope="module")
def module_slack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    """One supervisord + app for a whole module (the matrix, the fuzzer): rows share it."""
    sv = start_sample(http=True)
    fake = FakeSlack().start()
    tmp = tmp_path_factory.mktemp("slack")
    services = build_services(make_settings(tmp, basic_toml(sv), slack_env(fake)))
    harness = Harness(fake, services)
    harness.supervisor = sv
    yield harness
    harness.close()
    services.close()
    fake.stop()
    sv.stop()
