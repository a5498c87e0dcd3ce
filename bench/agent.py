"""Run-now latency to a remote agent: `python bench/agent.py [--runs 20]`.

One "host" (its own directory, config and supervisord running `supbot agent --node app2`) and
the bot's services share only a throwaway PostgreSQL. The same allow-listed command (`/bin/true`)
runs RUNS times on app2 through its agent (queued in the state, NOTIFY wakes the agent, output
streamed back) and RUNS times on the bot's own host, in the same run. Target: a remote run-now
starts within 1 s; the figure is the whole round trip, start to result.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bot.auth import Authorizer  # noqa: E402
from bot.config_load import load_settings  # noqa: E402
from bot.embedded import EmbeddedSupervisor  # noqa: E402
from bot.services import Services  # noqa: E402
from tests.storage.postgres import PostgresServer  # noqa: E402

PY = sys.executable
COMMANDS = """
[[commands]]
name = "remote-true"
command = ["/bin/true"]
nodes = ["app2"]

[[commands]]
name = "local-true"
command = ["/bin/true"]
"""


def storage(url: str, directory: Path) -> str:
    return f'[storage]\ndir = "{directory}/state"\nurl = "{url}"\nauto_upgrade = true\n'


def agent(config: Path, directory: Path) -> str:
    return f"""
[program:agent]
command={PY} -m bot agent --node app2
directory={directory}
environment=SUPBOT_CONFIG="{config}",PYTHONPATH="{ROOT}"
startsecs=0
stderr_logfile={directory}/agent.err
"""


def timed(services: Services, name: str, runs: int) -> list[float]:
    access = Authorizer.local_admin("bench")
    out = []
    for _ in range(runs):
        began = time.perf_counter()
        result = services.commands.run(access, name, [], lambda _text: None, 0.05)
        out.append(time.perf_counter() - began)
        assert result.ok, result
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    server = PostgresServer()
    server.start()
    host_dir = Path(tempfile.mkdtemp(prefix="sb-agent-", dir="/tmp"))
    sv = EmbeddedSupervisor(host_dir / "sv", "", http_port=None)
    config = host_dir / "supbot.toml"
    url = server.database()
    try:
        sv.programs = agent(config, host_dir)
        node = f'[[nodes]]\nname = "app2"\nurl = "{sv.url}"\n'
        config.write_text(storage(url, host_dir) + node + COMMANDS)
        sv.start()
        bot_dir = Path(tempfile.mkdtemp(prefix="sb-agent-bot-", dir="/tmp"))
        (bot_dir / "supbot.toml").write_text(storage(url, bot_dir) + node + COMMANDS)
        services = Services.build(load_settings(str(bot_dir / "supbot.toml")))
        deadline = time.time() + 30
        while time.time() < deadline:  # the agent's first heartbeat
            if services.store.last_heartbeat("agent:app2"):
                break
            time.sleep(0.1)
        timed(services, "remote-true", 2)  # warm both paths
        timed(services, "local-true", 2)
        remote = timed(services, "remote-true", args.runs)
        local = timed(services, "local-true", args.runs)
        services.close()
    finally:
        sv.stop()
        server.stop()
    r50, l50 = statistics.median(remote) * 1000, statistics.median(local) * 1000
    print(
        f"run-now of /bin/true, {args.runs} runs each: on app2 through its agent p50 {r50:.0f} ms,"
        f" max {max(remote) * 1000:.0f} ms; on the bot's host p50 {l50:.0f} ms;"
        f" remote − local {r50 - l50:+.0f} ms (target: starts within 1 s)"
    )


if __name__ == "__main__":
    main()
