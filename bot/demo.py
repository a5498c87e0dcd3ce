"""`supbot demo` / `make demo`: the whole product on this machine, no Slack needed.

An embedded supervisord with sample programs; the scheduler with two sample jobs (one every
20 s that succeeds, one a minute that fails); two allow-listed commands (one with an argument
pattern); an `artisan` stand-in (bot/demo_artisan.py) as `[[command_sources]]` and
`[[job_sources]]`; and the alerts pipeline, whose Slack messages are printed into the console as
a marked channel feed (bot/demo_feed.py). Everything lives in a temporary directory; quitting
stops all of it and removes the directory.
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from bot.console import Console
from bot.demo_artisan import ARTISAN
from bot.demo_feed import ChannelFeed
from bot.embedded import EmbeddedSupervisor, demo_programs, write_demo_scripts
from bot.errors import ExitStatus
from bot.services import Runtime

DEMO_USER = "U0DEMO"
DEMO_CHANNEL = "C0DEMO"
ALERTS = "alerts"

TOUR = """Try these five first (the #alerts feed prints crashes and failed jobs as they happen):
  status                 every process, its state and uptime
  jobs                   supbot's jobs and the Laravel schedule, with next runs
  run greet world        an allow-listed command with an argument
  job run heartbeat      run a job now (`job history heartbeat` shows its runs)
  watch 60               wait a minute for the feed: flaky crashes within 15-40 s
"""


def demo_config(root: Path, socket_url: str) -> str:
    py, artisan = sys.executable, root / "scripts" / "artisan.py"
    cmd = f"['{py}', '{artisan}'"
    return f"""# written by `supbot demo`
timezone = "UTC"

[storage]
dir = "state"

[alerts]
channel = "{ALERTS}"

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

[[jobs]]
name = "heartbeat"
schedule = "* * * * * */20"
command = {cmd}, 'app:heartbeat']
description = "every 20 s; succeeds"
overlap = "allow"  # harmless twice: `job run heartbeat` never meets the scheduled run's lock

[[jobs]]
name = "sync-invoices"
schedule = "* * * * * 15,45"
command = {cmd}, 'app:sync-invoices']
description = "at :15 and :45 of every minute; fails (the billing API is down)"

[[commands]]
name = "migrations"
command = {cmd}, 'migrate:status']
description = "which migrations ran"

[[commands]]
name = "greet"
command = {cmd}, 'app:greet']
description = "say hello"
args = "[A-Za-z]{{1,20}}"

[[command_sources]]
name = "artisan"
command = {cmd}, 'list', '--format=json']
allow = ["cache:*", "inspire"]

[[job_sources]]
name = "shop"
command = {cmd}, 'schedule:list', '--json']
nodes = ["local"]
"""


def run_demo() -> int:
    root = Path(tempfile.mkdtemp(prefix="supbot-demo-"))
    scripts = write_demo_scripts(root / "scripts")
    (scripts / "artisan.py").write_text(ARTISAN)
    supervisor = EmbeddedSupervisor(root / "supervisor", demo_programs(scripts))
    config = root / "supbot.toml"
    config.write_text(demo_config(root, supervisor.url))
    print(f"starting an embedded supervisord in {root} …", flush=True)
    # SIGTERM/SIGHUP to the demo must still stop supervisord: turn them into a clean exit.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(ExitStatus.TERMINATED))
    console: list[Console] = []
    feed = ChannelFeed(lambda line: console[0].say(line) if console else print(line)).start()
    stops: list[Callable[[], None]] = []
    try:
        supervisor.start()
        _wait_started(supervisor)
        # The demo's Slack is the feed: the real alerts pipeline posts there.
        os.environ.update(
            SUPBOT_CONFIG=str(config), SLACK_API_URL=feed.url, SLACK_BOT_TOKEN="xoxb-demo"
        )
        runtime = Runtime(str(config))
        console.append(Console(runtime, sys.stdin, sys.stdout, TOUR))
        stops = _start_background(runtime)
        print("programs: web, worker (2 processes), flaky (crashes now and then), report (stopped)")
        print("jobs: heartbeat (every 20 s), sync-invoices (every 30 s, fails)")
        print("commands: migrations, greet <name>; Laravel stand-in: scripts/artisan.py")
        print("`help` suggests a five-command tour.", flush=True)
        return console[0].run()
    finally:
        for stop in reversed(stops):
            stop()
        feed.stop()
        supervisor.stop()
        shutil.rmtree(root, ignore_errors=True)
        print("demo supervisord stopped.", flush=True)


def _start_background(runtime: Runtime) -> list[Callable[[], None]]:
    """The scheduler and the alerts worker, in this process; returns how to stop each."""
    from bot.alerts.service import AlertsWorker
    from bot.scheduler.runner import Runner

    # Their routine log lines would interleave with the console; problems still show.
    logging.getLogger("supbot").setLevel(logging.WARNING)
    worker = AlertsWorker(runtime.services, deliver=True).start()
    runner = Runner(lambda: runtime.services.jobs, stop_grace=2.0)
    thread = threading.Thread(target=runner.run, name="scheduler", daemon=True)
    thread.start()
    deadline = time.monotonic() + 5.0  # the first `jobs` should see it running
    while not runtime.services.jobs.runner_status().live and time.monotonic() < deadline:
        time.sleep(0.1)

    def stop_runner() -> None:
        runner.stopping.set()
        thread.join(15)

    return [worker.stop, stop_runner]


def _wait_started(supervisor: EmbeddedSupervisor, seconds: float = 5.0) -> None:
    """Let the sample programs pass their startsecs, so the first `status` shows them RUNNING."""
    from bot.supervisor.client import NodeClient

    client = NodeClient(supervisor.node())
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not any(p.state == "STARTING" for p in client.all_processes()):
            return
        time.sleep(0.2)
