"""A storm of 200 crashes: every channel stays within its budget, every crash is counted."""

from __future__ import annotations

from bot.alerts.outbox import BURST, RATE
from bot.supervisor.client import NodeClient
from tests.alerts.conftest import PROGRAMS, MakeEnv
from tests.conftest import wait_until

STORM = """
[program:storm]
command=/bin/sh -c 'f={root}/c%(process_num)02d; n=$(( $(cat $f 2>/dev/null || echo 0) + 1 )); echo $n > $f; if [ $n -gt 4 ]; then exec sleep 100000; fi; exit 1'
process_name=storm_%(process_num)02d
numprocs=50
autostart=false
autorestart=unexpected
startsecs=0
"""


def test_storm_of_200_crashes_stays_in_budget_and_counts_every_crash(alert_env: MakeEnv) -> None:
    # 200 crashes in ~2 s are ~750 state events: more than buffer_size=100 holds while
    # supervisord is busy spawning (it hands out one event per main-loop pass).
    env = alert_env(programs=PROGRAMS + STORM, buffer_size=1000)
    client = NodeClient(env.sv.node(timeout=30))
    client.call("startProcessGroup", "storm", False)
    wait_until(
        lambda: (
            sum(p.state == "RUNNING" for p in client.all_processes() if p.group == "storm") == 50
        ),
        40,
    )
    # A counter file is empty for an instant while its program rewrites it: read when settled.
    counts = [env.root / f"c{i:02d}" for i in range(50)]
    wait_until(lambda: all(c.read_text().strip().isdigit() for c in counts), 10)
    crashes_run = sum(int(c.read_text()) - 1 for c in counts)
    assert crashes_run == 200
    wait_until(lambda: env.idle() and env.slack.crashes_shown() >= 200, 60)
    wait_until(env.idle, 10)
    assert env.slack.crashes_shown() == 200, env.listener_log()[-2000:]
    times = sorted(c.at for c in env.slack.ok())
    for i, start in enumerate(times):
        in_window = sum(1 for t in times[i:] if t < start + 5.0)
        assert in_window <= 5 * RATE + BURST + 1
    assert len(env.slack.posts(top_level=True)) <= 10  # rolled up, not 50 messages
