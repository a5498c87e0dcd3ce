"""Benchmark: what one round of [[checks]] memory/CPU sampling costs for 500 processes
(target: < 2% of one core at the default 10 s interval).

    .venv/bin/python bench/checks.py [--procs 500] [--rounds 5]

Starts a real supervisord with one `sleep` program of `numprocs` = N and runs the checks loop's
rounds (fleet read + psutil RSS with children and CPU % per process) with a memory limit no
process reaches; prints the CPU time (user + system of this process) per round.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.checks.loop import ChecksLoop  # noqa: E402
from bot.config_load import parse_settings  # noqa: E402
from bot.embedded import EmbeddedSupervisor  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.storage.alerts.store import AlertStore  # noqa: E402

SLEEP = shutil.which("sleep") or "/bin/sleep"
INTERVAL = 10.0
TARGET = 0.02


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--procs", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sbc-", dir="/tmp"))
    programs = f"""
[program:fleet]
command={SLEEP} 100000
process_name=%(program_name)s_%(process_num)03d
numprocs={args.procs}
startsecs=0
"""
    sv = EmbeddedSupervisor(root / "sv", programs)
    sv.start()
    toml = f"""
[storage]
dir = "{root / "state"}"
[[nodes]]
name = "local"
url = "{sv.url}"
timeout = "30s"
[[checks]]
programs = ["fleet:*"]
memory_max = "1GiB"
cpu_max = "90%"
"""
    import tomllib

    services = Services.build(parse_settings(tomllib.loads(toml), root / "supbot.toml", {}))
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            processes, _ = services.fleet.processes(fresh=True)
            if sum(p.state == "RUNNING" for p in processes) >= args.procs:
                break
            time.sleep(0.5)
        alerts = AlertStore(services.store)
        alerts.store.ensure()
        loop = ChecksLoop(services, alerts, threading.Event())
        loop.poll_once()  # first round: psutil objects created, CPU baselines taken
        cpu = []
        for _ in range(args.rounds):
            started = time.process_time()
            loop.poll_once()
            cpu.append(time.process_time() - started)
    finally:
        services.close()
        sv.stop()
    per_round = sorted(cpu)[len(cpu) // 2]
    share = per_round / INTERVAL
    print(
        f"{args.procs} processes: {per_round * 1000:.0f} ms CPU per round (median of {args.rounds})"
    )
    ok = share < TARGET
    print(
        f"{'PASS' if ok else 'FAIL'}  sampling every {INTERVAL:.0f} s < {TARGET:.0%} of a core: {share:.2%}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
