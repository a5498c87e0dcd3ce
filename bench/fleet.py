"""Fleet benchmark: `python bench/fleet.py [--nodes 20] [--procs 250] [--runs 9] [--crashes 10]`.

20 "hosts" on this machine (20 supervisords of 250 `sleep`s: 5,000 processes), each with its own
directory and on its own loopback address, sharing one PostgreSQL server (started here). The bot
reaches every node over HTTP, as it reaches remote hosts. In the same run:

1. `/sup status` (the dispatcher: fleet read, view, reply) fresh and cached, beside the raw
   XML-RPC fan-out (one `getAllProcessInfo` per node, in parallel, a new connection each);
2. crash → chat.postMessage at the loopback Slack from the last host (per crash, beside the
   bare listener's receipt of that crash), whose `supbot listen`
   records into PostgreSQL (no Slack token there) and the bot's alert worker delivers on NOTIFY,
   beside a bare event listener in the same supervisord (same events).
Targets: fresh status ≤ 1.2× the raw fan-out; crash → Slack p50 ≤ bare p50 + 50 ms.
Shared machines are noisy: compare the ratios, not absolute times.
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import sys
import tempfile
import time
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.alerts import BARE, p50  # noqa: E402
from bench.status import free_port, medians  # noqa: E402
from bot import errors  # noqa: E402
from bot.alerts.service import AlertsWorker  # noqa: E402
from bot.config_load import load_settings  # noqa: E402
from bot.embedded import EmbeddedSupervisor  # noqa: E402
from bot.services import Services  # noqa: E402
from bot.supervisor.client import NodeClient  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.storage.postgres import PostgresServer  # noqa: E402

PY = sys.executable
SLEEP = shutil.which("sleep") or "/bin/sleep"
TOKEN = "xoxb-bench"


def programs(procs: int, crashes: int, root: Path) -> str:
    crashers = f"""
[program:crasher]
command=/bin/sh -c 'date +%%s.%%N > {root}/exit_%(process_num)02d; exit 3'
process_name=crasher_%(process_num)02d
numprocs={crashes}
autostart=false
autorestart=false
startsecs=0
"""
    return f"""
[program:p]
command={SLEEP} 100000
process_name=%(program_name)s_%(process_num)03d
numprocs={procs}
startsecs=0
autorestart=false
stdout_logfile=NONE
stderr_logfile=NONE
{crashers if crashes else ""}"""


def listeners(root: Path, config: Path) -> str:
    """supbot's listener (state in PostgreSQL, no Slack token) and a bare one, same events."""
    (root / "bare.py").write_text(BARE)
    return f"""
[eventlistener:supbot]
command={PY} -m bot listen
events=PROCESS_STATE,TICK_60
buffer_size=100
environment=SUPBOT_CONFIG="{config}"
stderr_logfile={root}/listener.err

[eventlistener:bare]
command={PY} -u {root}/bare.py {root}/bare.out
events=PROCESS_STATE,TICK_60
buffer_size=100
stderr_logfile={root}/bare.err
"""


def bot_toml(url: str, root: Path, hosts: list[EmbeddedSupervisor], crashes: int) -> str:
    nodes = "".join(
        f'\n[[nodes]]\nname = "app{i + 1}"\nurl = "http://{h.http_host}:{h.http_port}"\n'
        f'username = "{h.http_user}"\npassword_env = "SV_PASSWORD"\ntimeout = "60s"\n'
        for i, h in enumerate(hosts)
    )
    last = f"app{len(hosts)}"
    bindings = "".join(
        f'\n[[channels]]\nid = "C0B{i:02d}"\nprograms = ["crasher:crasher_{i:02d}@{last}"]\n'
        f'alerts_channel = "C0A{i:02d}"\n'
        for i in range(crashes)
    )
    return f"""
[storage]
dir = "{root}/state"
url = "{url}"
auto_upgrade = true
{nodes}
[alerts]
channel = "C0ALERT"

[[channels]]
id = "C0OPS"
programs = ["*"]
viewers = ["*"]
{bindings}
[console]
user = "U0OPS"
channel = "C0OPS"
"""


def start_hosts(nodes: int, procs: int, crashes: int, url: str) -> list[EmbeddedSupervisor]:
    hosts = []
    for i in range(nodes):
        root = Path(tempfile.mkdtemp(prefix=f"sbf{i}-", dir="/tmp"))
        last = i == nodes - 1
        sv = EmbeddedSupervisor(
            root / "sv",
            programs(procs, crashes if last else 0, root),
            http_port=free_port(),
            http_host=f"127.0.0.{i + 2}",
        )
        if last:  # the remote host whose crashes are timed: its own config, state URL only
            config = root / "supbot.toml"
            config.write_text(
                f'[storage]\ndir = "{root}/state"\nurl = "{url}"\nauto_upgrade = true\n'
                f'[[nodes]]\nname = "app{nodes}"\nurl = "{sv.url}"\ntimeout = "60s"\n'
            )
            sv.extra = listeners(root, config)
        hosts.append(sv.start(wait=120))
    for sv in hosts:
        client = NodeClient(sv.node(timeout=60))
        deadline = time.monotonic() + 300
        while sum(p.state == "RUNNING" for p in client.all_processes()) < procs:
            if time.monotonic() > deadline:
                raise SystemExit(f"{sv.root}: not all {procs} processes running after 300 s")
            time.sleep(1)
    return hosts


def raw_fan_out(hosts: list[EmbeddedSupervisor], pool: ThreadPoolExecutor) -> int:
    def one(sv: EmbeddedSupervisor) -> int:
        url = f"http://{sv.http_user}:{sv.http_password}@{sv.http_host}:{sv.http_port}/RPC2"
        with xmlrpc.client.ServerProxy(url) as proxy:
            return len(proxy.supervisor.getAllProcessInfo())  # type: ignore[arg-type]

    return sum(pool.map(one, hosts))


def status_figures(
    services: Services, hosts: list[EmbeddedSupervisor], runs: int
) -> dict[str, float]:
    access = services.authorizer.for_console()
    run = services.dispatcher.run_text
    with ThreadPoolExecutor(len(hosts)) as pool:
        return medians(
            {
                "raw": lambda: raw_fan_out(hosts, pool),
                "fresh": lambda: run(access, "status --fresh"),
                "cached": lambda: run(access, "status"),
            },
            runs,
        )


def crash_latencies(
    root: Path, services: Services, slack: FakeSlack, crashes: int, node: str
) -> tuple[list[float], list[float]]:
    """Crash each crasher once: (first post to its channel − exit), (bare receipt − exit)."""
    client = services.fleet.client(node)
    ours: dict[int, float] = {}
    for i in range(crashes):
        with contextlib.suppress(errors.SpawnFailed):
            client.start(f"crasher:crasher_{i:02d}", wait=False)
        channel, deadline = f"C0A{i:02d}", time.time() + 15
        while not slack.posts(channel) and time.time() < deadline:
            time.sleep(0.002)
        if slack.posts(channel):
            ours[i] = slack.posts(channel)[0].wall - float((root / f"exit_{i:02d}").read_text())
        time.sleep(0.3)
    bare = {}
    for line in (root / "bare.out").read_text().splitlines():
        name, at = line.split()
        bare[name] = float(at)
    theirs = {
        i: bare[f"crasher_{i:02d}"] - float((root / f"exit_{i:02d}").read_text())
        for i in range(crashes)
        if f"crasher_{i:02d}" in bare
    }
    # supervisord notices an exit at its next tick (up to 1 s): compare each crash with the
    # bare listener's receipt of the same crash, not the two medians only
    paired = [ours[i] - theirs[i] for i in ours if i in theirs]
    return list(ours.values()), list(theirs.values()), paired


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nodes", type=int, default=20)
    parser.add_argument("--procs", type=int, default=250)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--crashes", type=int, default=10)
    args = parser.parse_args()
    pg = PostgresServer()
    pg.start()
    url = pg.database()
    slack = FakeSlack().start()
    began = time.monotonic()
    hosts: list[EmbeddedSupervisor] = []
    services = None
    try:
        hosts = start_hosts(args.nodes, args.procs, args.crashes, url)
        total = args.nodes * args.procs
        print(
            f"{args.nodes} supervisords, {total} processes running in {time.monotonic() - began:.0f} s"
        )
        root = Path(tempfile.mkdtemp(prefix="sbf-bot-", dir="/tmp"))
        config = root / "supbot.toml"
        config.write_text(bot_toml(url, root, hosts, args.crashes))
        env = {"SLACK_BOT_TOKEN": TOKEN, "SLACK_API_URL": slack.url, "SV_PASSWORD": "secret"}
        services = Services.build(load_settings(str(config), env=env))
        t = status_figures(services, hosts, args.runs)
        print(
            f"/sup status over {total} processes: raw fan-out {t['raw'] * 1000:.0f} ms; "
            f"fresh {t['fresh'] * 1000:.0f} ms ({t['fresh'] / t['raw']:.2f}× raw; target ≤ 1.2×); "
            f"cached {t['cached'] * 1000:.1f} ms ({t['cached'] / t['raw']:.3f}× raw)"
        )
        node = f"app{args.nodes}"
        deadline = time.monotonic() + 60
        while services.store.last_heartbeat(f"listener:{node}") is None:
            if time.monotonic() > deadline:
                raise SystemExit(f"the listener on {node} never beat (see {hosts[-1].root.parent})")
            time.sleep(0.1)
        worker = AlertsWorker(services, watch=False).start()  # serve's delivery, no polling
        try:
            time.sleep(1)
            ours, bare, paired = crash_latencies(
                hosts[-1].root.parent, services, slack, args.crashes, node
            )
        finally:
            worker.stop()
        print(
            f"crash on {node} → chat.postMessage (listener → PostgreSQL → NOTIFY → bot): p50 "
            f"{p50(ours):.0f} ms, max {max(ours, default=float('nan')) * 1000:.0f} ms; bare listener "
            f"receipt p50 {p50(bare):.0f} ms; delta {p50(ours) - p50(bare):+.0f} ms; per crash "
            f"p50 {p50(paired):+.0f} ms, max {max(paired, default=float('nan')) * 1000:+.0f} ms "
            f"(n={len(ours)}; target ≤ +50 ms)"
        )
    finally:
        if services is not None:
            services.close()
            services.store.close()
        for sv in hosts:
            sv.stop()
        slack.stop()
        pg.pause()


if __name__ == "__main__":
    main()
