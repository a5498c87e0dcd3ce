"""Crash alert benchmarks: `python bench/alerts.py`.

1. crash → chat.postMessage at the loopback Slack, listener mode (supbot listen delivering
   itself) beside a bare event listener in the same supervisord (same events, same ticks);
2. the same in watcher mode (no listener; AlertsWorker polling);
3. storm throughput: 2000 recorded crash events of 200 processes through incidents + outbox;
4. supervisord CPU spent serving the watcher at 500 processes (psutil cpu_times of its pid).
Targets: listener p50 ≤ bare p50 + 50 ms; watcher ≤ poll interval + 150 ms; watcher < 10% core.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from bot import errors
from bot.alerts import events  # noqa: E402
from bot.alerts.records import ProcessEvent  # noqa: E402
from bot.alerts.service import AlertsWorker  # noqa: E402
from bot.config_load import load_settings  # noqa: E402
from bot.embedded import EmbeddedSupervisor  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.storage.alerts.store import AlertStore  # noqa: E402
from bot.supervisor.client import NodeClient  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.storage.postgres import PostgresServer  # noqa: E402

PY = sys.executable
N = 15
TOKEN = "xoxb-bench"

BARE = """
import sys, time
out = sys.argv[1]
def w(s):
    sys.stdout.write(s); sys.stdout.flush()
while True:
    w("READY\\n")
    h = dict(t.split(":", 1) for t in sys.stdin.readline().split())
    payload = sys.stdin.read(int(h["len"]))
    if h["eventname"] == "PROCESS_STATE_EXITED":
        f = dict(t.split(":", 1) for t in payload.split("\\n")[0].split())
        with open(out, "a") as fh:
            fh.write(f"{f['processname']} {time.time()}\\n")
    w("RESULT 2\\nOK")
"""


def crashers(root: Path, n: int) -> str:
    return f"""
[program:crasher]
command=/bin/sh -c 'date +%%s.%%N > {root}/exit_%(process_num)02d; exit 3'
process_name=crasher_%(process_num)02d
numprocs={n}
autostart=false
autorestart=false
startsecs=0
"""


def toml(sv: EmbeddedSupervisor, n: int, send: bool, url: str | None = None) -> str:
    bindings = "".join(
        f'\n[[channels]]\nid = "C0B{i:02d}"\nprograms = ["crasher:crasher_{i:02d}"]\n'
        f'alerts_channel = "C0A{i:02d}"\n'
        for i in range(n)
    )
    storage = f'url = "{url}"\nauto_upgrade = true' if url else ""
    return f"""
[storage]
dir = "state"
{storage}
[[nodes]]
name = "local"
url = "{sv.url}"
[alerts]
channel = "C0ALERT"
send_from_listener = {str(send).lower()}
{bindings}
"""


def env_for(slack: FakeSlack) -> dict[str, str]:
    return {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.url}


def crash_latencies(root: Path, sv: EmbeddedSupervisor, slack: FakeSlack) -> list[float]:
    """Crash each crasher once; latency = first post to its channel − its exit time."""
    client = NodeClient(sv.node())
    out = []
    for i in range(N):
        # supervisord may answer SPAWN_ERROR when it reaps the exit inside startProcess
        with contextlib.suppress(errors.SpawnFailed):
            client.start(f"crasher:crasher_{i:02d}", wait=False)
        channel = f"C0A{i:02d}"
        deadline = time.time() + 15
        while not slack.posts(channel) and time.time() < deadline:
            time.sleep(0.002)
        posts = slack.posts(channel)
        if posts:
            exit_at = float((root / f"exit_{i:02d}").read_text())
            out.append(posts[0].wall - exit_at)
        time.sleep(0.3)
    return out


def bare_latencies(root: Path) -> list[float]:
    got = {}
    for line in (root / "bare.out").read_text().split("\n"):
        if line.startswith("crasher_"):
            name, at = line.split()
            got[name] = float(at)
    return [
        got[f"crasher_{i:02d}"] - float((root / f"exit_{i:02d}").read_text())
        for i in range(N)
        if f"crasher_{i:02d}" in got
    ]


def p50(xs: list[float]) -> float:
    return statistics.median(xs) * 1000 if xs else float("nan")


def listener_mode(url: str | None = None) -> tuple[float, float, int]:
    """Crash → Slack with `supbot listen` sending itself, state in SQLite or at `url`."""
    root = Path(tempfile.mkdtemp(prefix="sbb-", dir="/tmp"))
    slack = FakeSlack().start()
    (root / "bare.py").write_text(BARE)
    sv = EmbeddedSupervisor(root / "sv", crashers(root, N))
    cfg = root / "supbot.toml"
    cfg.write_text(toml(sv, N, send=True, url=url))
    sv.extra = f"""
[eventlistener:supbot]
command={PY} -m bot listen
events=PROCESS_STATE,TICK_60
buffer_size=100
environment=SUPBOT_CONFIG="{cfg}",SLACK_BOT_TOKEN="{TOKEN}",SLACK_API_URL="{slack.url}"
stderr_logfile={root}/listener.err

[eventlistener:bare]
command={PY} -u {root}/bare.py {root}/bare.out
events=PROCESS_STATE,TICK_60
buffer_size=100
stderr_logfile={root}/bare.err
"""
    sv.start()
    try:
        store = Services.build(load_settings(str(cfg), env=env_for(slack))).store
        deadline = time.time() + 20
        while store.last_heartbeat("listener:local") is None and time.time() < deadline:
            time.sleep(0.05)
        time.sleep(1)
        ours = crash_latencies(root, sv, slack)
        bare = bare_latencies(root)
        return p50(bare), p50(ours), len(ours)
    finally:
        sv.stop()
        slack.stop()


def watcher_mode() -> tuple[float, float, float, int]:
    root = Path(tempfile.mkdtemp(prefix="sbw-", dir="/tmp"))
    slack = FakeSlack().start()
    sv = EmbeddedSupervisor(root / "sv", crashers(root, N))
    cfg = root / "supbot.toml"
    cfg.write_text(toml(sv, N, send=False))
    sv.start()
    services = Services.build(load_settings(str(cfg), env=env_for(slack)))
    worker = AlertsWorker(services).start()
    try:
        time.sleep(3)
        lat = crash_latencies(root, sv, slack)
        interval = worker.watchers["local"].watch.interval
        return p50(lat), max(lat) * 1000, interval, len(lat)
    finally:
        worker.stop()
        sv.stop()
        slack.stop()
        services.close()


def storm_throughput() -> tuple[float, float, int, int]:
    root = Path(tempfile.mkdtemp(prefix="sbs-", dir="/tmp"))
    slack = FakeSlack().start()
    cfg = root / "supbot.toml"
    cfg.write_text(
        f'[storage]\ndir = "state"\n[[nodes]]\nname = "local"\nurl = "unix://{root}/none.sock"\n'
        '[alerts]\nchannel = "C0ALERT"\n'
    )
    services = Services.build(load_settings(str(cfg), env=env_for(slack)))
    store = services.store
    alerts = AlertStore(store)
    started = time.perf_counter()
    for k in range(2000):
        i = k % 200
        ev = ProcessEvent(
            "local",
            f"storm:storm_{i:03d}",
            "EXITED",
            "listener",
            "RUNNING",
            pid=10000 + k,
            expected=False,
            serial=str(k),
        )
        events.record(alerts, ev)
    recorded = time.perf_counter() - started
    worker = AlertsWorker(services, watch=False).start()
    t0 = time.perf_counter()
    while True:
        if alerts.pending_events() == 0:
            break
        time.sleep(0.01)
    processed = time.perf_counter() - t0
    while services and alerts.backlog():
        time.sleep(0.05)
    drained = time.perf_counter() - t0
    worker.stop()
    slack.stop()
    services.close()
    calls = len(slack.ok())
    return 2000 / recorded, 2000 / processed, calls, int(drained)


def watcher_cpu() -> tuple[float, float, float, float]:
    root = Path(tempfile.mkdtemp(prefix="sbc-", dir="/tmp"))
    programs = """
[program:idle]
command=/bin/sleep 100000
process_name=idle_%(process_num)03d
numprocs=500
startsecs=0
"""
    sv = EmbeddedSupervisor(root / "sv", programs)
    sv.start()
    slack = FakeSlack().start()
    cfg = root / "supbot.toml"
    cfg.write_text(
        f'[storage]\ndir = "state"\n[[nodes]]\nname = "local"\nurl = "{sv.url}"\ntimeout = "30s"\n'
        '[alerts]\nchannel = "C0ALERT"\n'
    )
    try:
        client = NodeClient(sv.node(timeout=30))
        deadline = time.time() + 120
        while (
            sum(p.state == "RUNNING" for p in client.all_processes()) < 500
            and time.time() < deadline
        ):
            time.sleep(1)
        proc = psutil.Process(sv.process.pid)  # type: ignore[union-attr]

        def cpu() -> float:
            t = proc.cpu_times()
            return t.user + t.system

        window = 30.0
        c0 = cpu()
        time.sleep(window)
        baseline = (cpu() - c0) / window
        t0 = time.perf_counter()
        client.all_processes()
        call = time.perf_counter() - t0
        services = Services.build(load_settings(str(cfg), env=env_for(slack)))
        worker = AlertsWorker(services).start()
        time.sleep(2)
        c1 = cpu()
        time.sleep(window)
        watched = (cpu() - c1) / window
        interval = worker.watchers["local"].watch.interval
        worker.stop()
        services.close()
        return baseline * 100, (watched - baseline) * 100, call * 1000, interval
    finally:
        sv.stop()
        slack.stop()


def main() -> None:
    bare, ours, n = listener_mode()
    print(
        f"listener mode: crash→chat.postMessage p50 {ours:.0f} ms; bare listener receipt p50 {bare:.0f} ms; delta {ours - bare:+.0f} ms (n={n}; target ≤ +50 ms)"
    )
    server = PostgresServer()
    server.start()
    try:
        pg_bare, pg_ours, pg_n = listener_mode(server.database())
    finally:
        server.stop()
    print(
        f"listener mode, state on PostgreSQL: crash→chat.postMessage p50 {pg_ours:.0f} ms; bare p50 {pg_bare:.0f} ms; delta {pg_ours - pg_bare:+.0f} ms (n={pg_n}); PostgreSQL − SQLite {(pg_ours - pg_bare) - (ours - bare):+.0f} ms (target ≤ +10 ms)"
    )
    w50, wmax, interval, n = watcher_mode()
    print(
        f"watcher mode: crash→chat.postMessage p50 {w50:.0f} ms, max {wmax:.0f} ms, poll interval {interval:.1f} s (n={n}; target ≤ interval + 150 ms)"
    )
    rec, proc, calls, drained = storm_throughput()
    print(
        f"storm: 2000 crash events of 200 processes: recorded {rec:.0f}/s, turned into incidents {proc:.0f}/s; {calls} Slack calls, outbox drained in {drained} s (paced 1/s/channel)"
    )
    base, cost, call, interval = watcher_cpu()
    print(
        f"watcher at 500 processes: getAllProcessInfo {call:.0f} ms, interval {interval:.1f} s, supervisord CPU +{cost:.1f}% of a core (idle baseline {base:.1f}%; target < 10%)"
    )


if __name__ == "__main__":
    main()
