"""`supbot demo` / `make demo`: an embedded supervisord with sample programs and the console.

Everything lives in a temporary directory; quitting the console stops that supervisord.
"""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
from pathlib import Path

from bot.console import Console
from bot.embedded import EmbeddedSupervisor, demo_programs, write_demo_scripts
from bot.errors import ExitStatus
from bot.services import Runtime

DEMO_USER = "U0DEMO"
DEMO_CHANNEL = "C0DEMO"


def demo_config(root: Path, socket_url: str) -> str:
    return f"""# written by `supbot demo`
timezone = "UTC"

[storage]
dir = "state"

[[nodes]]
name = "local"
url = "{socket_url}"
timeout = "5s"

[[channels]]
id = "{DEMO_CHANNEL}"
programs = ["*"]
jobs = ["*"]
commands = ["*"]
critical = ["web"]
viewers = ["*"]
admins = ["{DEMO_USER}"]

[console]
user = "{DEMO_USER}"
channel = "{DEMO_CHANNEL}"
"""


def run_demo() -> int:
    root = Path(tempfile.mkdtemp(prefix="supbot-demo-"))
    scripts = write_demo_scripts(root / "scripts")
    supervisor = EmbeddedSupervisor(root / "supervisor", demo_programs(scripts))
    config = root / "supbot.toml"
    config.write_text(demo_config(root, supervisor.url))
    print(f"starting an embedded supervisord in {root} …", flush=True)
    # SIGTERM/SIGHUP to the demo must still stop supervisord: turn them into a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(ExitStatus.TERMINATED))
    try:
        supervisor.start()
        _wait_started(supervisor)
        os.environ["SUPBOT_CONFIG"] = str(config)
        runtime = Runtime(str(config))
        print("programs: web, worker (2 processes), flaky (crashes now and then), report (stopped)")
        return Console(runtime, sys.stdin, sys.stdout).run()
    finally:
        supervisor.stop()
        shutil.rmtree(root, ignore_errors=True)
        print("demo supervisord stopped.", flush=True)


def _wait_started(supervisor: EmbeddedSupervisor, seconds: float = 5.0) -> None:
    """Let the sample programs pass their startsecs, so the first `status` shows them RUNNING."""
    import time

    from bot.supervisor.client import NodeClient

    client = NodeClient(supervisor.node())
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(p.state == "STARTING" for p in client.all_processes()):
            return
        time.sleep(0.2)
