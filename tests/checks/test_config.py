"""`[[checks]]` in the config file: values read, mistakes named with their key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config_reader import ConfigError
from tests.conftest import make_settings

BASE = """
[storage]
dir = "state"
[[nodes]]
name = "local"
url = "unix:///tmp/none.sock"
"""


def test_a_memory_check_and_an_http_check_are_read(tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path,
        BASE
        + """
[[checks]]
name = "worker-memory"
programs = ["worker:*"]
memory_max = "512MiB"
cpu_max = "90%"
for = "2m"
action = "restart"
[[checks]]
programs = ["web"]
http = "http://127.0.0.1:8000/health"
timeout = "5s"
fail_after = 3
""",
    )
    memory, web = settings.checks
    assert (memory.name, memory.memory_max, memory.cpu_max, memory.sustain) == (
        "worker-memory", 512 * 1024**2, 90.0, 120.0,
    )  # fmt: skip
    assert (memory.action, memory.cooldown, memory.interval) == ("restart", 600.0, 10.0)
    assert (web.name, web.http, web.timeout, web.fail_after, web.action) == (
        "web#2", "http://127.0.0.1:8000/health", 5.0, 3, "alert",
    )  # fmt: skip


def test_every_mistake_in_checks_is_named_with_its_key(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        make_settings(
            tmp_path,
            BASE
            + """
[[checks]]
programs = ["web"]
memory_max = "lots"
cpu_max = "ninety"
action = "reboot"
fail_after = 0
[[checks]]
programs = ["web"]
http = "ftp://x/"
[[checks]]
programs = ["idle"]
mem_max = "1GiB"
""",
        )
    report = "\n".join(caught.value.problems)
    assert "checks[0].memory_max: expected a size like '1MiB'" in report
    assert "checks[0].cpu_max: expected a percentage of one core like '90%'" in report
    assert "checks[0].action: must be one of alert, restart, got 'reboot'" in report
    assert "checks[0].fail_after: must be at least 1" in report
    assert "checks[1].http: expected an http:// or https:// URL" in report
    assert "checks[2].mem_max: unknown key (did you mean 'memory_max'?)" in report
    assert "checks[2].programs: a check needs memory_max, cpu_max or http" in report
