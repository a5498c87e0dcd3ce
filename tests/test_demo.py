"""`make demo` with piped input: the embedded supervisord starts, answers, and is gone after."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
SUPBOT = ROOT / ".venv" / "bin" / "supbot"


def test_demo_with_piped_input_shows_status_and_stops_supervisord(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SUPBOT_CONFIG"}
    proc = subprocess.run(
        [str(SUPBOT), "demo"],
        input="status\nquit\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=90,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    found = re.search(r"starting an embedded supervisord in (\S+) …", out)
    assert found, out
    root = found.group(1)
    assert "sup> status" in out
    table = out.split("sup> status", 1)[1]
    for name in ("web", "worker:worker_00", "worker:worker_01", "flaky", "report"):
        assert re.search(rf"^{re.escape(name)}\s", table, re.M), (name, out)
    assert out.rstrip().endswith("demo supervisord stopped.")
    assert "Traceback" not in proc.stderr
    # nothing of the demo is left: no supervisord nor program from its directory, no files
    assert not Path(root).exists()
    leftovers = []
    for p in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(p.info["cmdline"] or [])
        if root in cmdline:
            leftovers.append(cmdline)
    assert leftovers == []


def test_piped_demo_tour_shows_a_job_run_a_command_and_a_crash_alert_within_60s(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "SUPBOT_CONFIG"}
    tour = "help\njobs\nrun greet world\njob run heartbeat\nschedule run @local\nwatch 55\nquit\n"
    proc = subprocess.run(
        [str(SUPBOT), "demo"],
        input=tour,
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        timeout=120,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr
    assert "Try these five first" in out
    # the Laravel stand-in's schedule, with next runs, next to supbot's jobs
    assert "php artisan backup:run  `0 3 * * *`  [Laravel: shop]" in out
    assert "Hello, world!" in out  # an allow-listed command's output
    assert re.search(r"heartbeat: run #\d+ by <@U0DEMO> — ok \(exit 0\)", out), out
    assert "schedule:run" in out and "exit code 0 (ok)" in out
    # the channel feed: flaky's crash and the failing job, marked, after the watch began
    feed = out.split("(watching the channel feed", 1)[1]
    assert re.search(r"^\[#alerts feed\] .*flaky", feed, re.M), out
    assert re.search(r"^\[#alerts feed\] .*sync-invoices", feed, re.M), out
    assert out.rstrip().endswith("demo supervisord stopped.")
    root = re.search(r"starting an embedded supervisord in (\S+) …", out).group(1)  # type: ignore[union-attr]
    assert not Path(root).exists()
    assert "Traceback" not in proc.stderr
