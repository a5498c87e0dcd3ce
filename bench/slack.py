"""Bench: the Slack bot in HTTP mode, 500 processes on 2 real supervisord nodes.

    .venv/bin/python bench/slack.py [--users 20] [--rounds 5] [--workers 2]

The bot runs as `supbot serve --http [--workers N]` in its own processes (as in production, so
the bench's clients and fake Slack do not share its interpreter lock). Measures, against a
loopback fake of Slack's Web API and a lean response_url (bench/receiver.py, so that the
bench's own CPU competes as little as it can with the bot's on 2 cores):
ack latency (p50/p99 over every request sent), the time until the complete `status --fresh`
answer reaches response_url (1 user, then 20 users at once), the same from the status cache —
printed beside one raw getAllProcessInfo fan-out to both nodes measured in the same run, twice:
with xmlrpc.client's parser (raw XML-RPC, as supervisorctl reads it: the target's baseline) and
with supbot's own transport (bot/supervisor/xmlrpc_rows.py reads the answer ~5× faster), the
floor under the bot's own read.
Targets: ack p99 < 50 ms; fresh status ≤ 1.2× the raw fan-out (also with 20 users);
< 50 ms from the cache.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import os
import statistics
import subprocess
import sys
import time
import urllib.request
import xmlrpc.client
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.receiver import Receiver  # noqa: E402
from bot.embedded import EmbeddedSupervisor  # noqa: E402
from bot.supervisor.client import NodeClient  # noqa: E402
from bot.supervisor.transport import TimeoutTransport, new_proxy  # noqa: E402
from tests.conftest import free_port, short_tmp, wait_until  # noqa: E402
from tests.fakes.slack import FakeSlack  # noqa: E402
from tests.slack.harness import Sent, signed_headers, slack_env, slash_body  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

PER_NODE = 250
PROGRAMS = f"""
[program:p]
command=/bin/sleep 100000
process_name=%(program_name)s_%(process_num)03d
numprocs={PER_NODE}
startsecs=0
autorestart=false
"""


def toml(nodes: list[EmbeddedSupervisor]) -> str:
    node_tables = "".join(
        f'[[nodes]]\nname = "n{i}"\nurl = "{sv.url}"\ntimeout = "10s"\n\n'
        for i, sv in enumerate(nodes)
    )
    return f"""
[storage]
dir = "state"

{node_tables}
[[channels]]
id = "C0OPS"
programs = ["*"]
viewers = ["*"]
operators = ["U0OPER"]

[slack]
status_cache_ttl = "30s"
"""


class StockTransport(TimeoutTransport):
    """supbot's connection handling (new connection per call, timeout) with xmlrpc.client's
    own parser: what a plain XML-RPC client or supervisorctl pays to read the answer."""

    parse_response = xmlrpc.client.Transport.parse_response


def stock_call(node: NodeClient) -> object:
    proxy, transport = new_proxy(node.settings, StockTransport)
    try:
        return proxy.supervisor.getAllProcessInfo()
    finally:
        transport.close()


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:7.1f} ms"


class Bot:
    """`supbot serve --http` in a subprocess; `slash()` sends a signed command."""

    def __init__(self, fake: FakeSlack, receiver: Receiver, config: Path, workers: int = 1) -> None:
        self.fake, self.receiver, self.port = fake, receiver, free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("SLACK_")}
        env.update(slack_env(fake), SUPBOT_CONFIG=str(config), PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "bot",
                "serve",
                "--http",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            cwd=config.parent,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.url = f"http://127.0.0.1:{self.port}/slack/events"
        wait_until(self._healthy, 60, 0.1)

    def processes(self) -> list[psutil.Process]:
        """The parent and its workers (and multiprocessing's resource tracker, idle)."""
        parent = psutil.Process(self.proc.pid)
        return [parent, *parent.children()]

    def cpu(self) -> float:
        """CPU seconds used so far by every process of the bot."""
        return _cpu(self.processes())

    def _healthy(self) -> bool:
        try:
            with urllib.request.urlopen(self.url.replace("/slack/events", "/healthz"), timeout=1):
                return True
        except OSError:
            return False

    def slash(self, text: str, user: str) -> Sent:
        response_url = self.receiver.response_url()
        body = slash_body(text, user, "C0OPS", response_url)
        headers = {"Content-Type": "application/x-www-form-urlencoded", **signed_headers(body)}
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        started = time.monotonic()
        try:
            connection.request("POST", "/slack/events", body.encode(), headers)
            response = connection.getresponse()
            response.read()
            return Sent(response.status, time.monotonic() - started, "", response_url)
        finally:
            connection.close()

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def timed_status(bot: Bot, acks: list[float], text: str, user: str) -> float:
    """Seconds from sending the command until the complete answer reached response_url."""
    started = time.monotonic()
    sent = bot.slash(text, user=user)
    acks.append(sent.seconds)
    answer = bot.receiver.wait(sent.response_url)
    if b"p_" not in answer.body:  # a status listing the processes, not an error
        raise AssertionError(f"not a status answer: {answer.body[:300]!r}")
    return answer.at - started


def _cpu(processes: list[psutil.Process]) -> float:
    """CPU seconds used so far by `processes` (one that ended meanwhile counts nothing)."""
    total = 0.0
    for process in processes:
        try:
            used = process.cpu_times()
        except psutil.Error:
            continue
        total += used.user + used.system
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--workers", type=int, default=1, help="serve --workers N")
    args = parser.parse_args()

    print(f"starting 2 supervisord nodes with {PER_NODE} processes each…", flush=True)
    nodes = [EmbeddedSupervisor(short_tmp() / f"sv{i}", PROGRAMS) for i in range(2)]
    fake = FakeSlack().start()
    receiver = Receiver().start()
    bot: Bot | None = None
    try:
        for sv in nodes:
            sv.start(wait=60)
        clients = [NodeClient(sv.node(f"n{i}", timeout=30)) for i, sv in enumerate(nodes)]
        # The raw fan-out: the same XML-RPC call the bot makes, to both nodes in parallel,
        # read by xmlrpc.client (stock) and by supbot's transport (ours).
        stock_calls = [functools.partial(stock_call, c) for c in clients]
        our_calls = [lambda c=c: c.call("getAllProcessInfo") for c in clients]
        for client in clients:
            wait_until(
                lambda c=client: sum(p.state == "RUNNING" for p in c.all_processes()) == PER_NODE,
                120,
                0.5,
            )
        config = short_tmp() / "supbot.toml"
        config.write_text(toml(nodes))
        bot = Bot(fake, receiver, config, args.workers)
        supervisords = [psutil.Process(sv.process.pid) for sv in nodes if sv.process]
        acks: list[float] = []

        # Warm-up: auth.test, config info, imports; a burst so that every worker is up.
        users = [f"U0USER{i:02d}" for i in range(args.users)]
        with ThreadPoolExecutor(max_workers=max(2, args.users)) as pool:
            list(pool.map(lambda u: timed_status(bot, acks, "status --fresh", u), users))
        acks.clear()

        raw: list[float] = []
        ours: list[float] = []
        fresh_one: list[float] = []
        cached: list[float] = []
        fresh_many: list[float] = []
        with ThreadPoolExecutor(max_workers=max(2, args.users)) as pool:
            for _ in range(args.rounds):
                for calls, into in ((stock_calls, raw), (our_calls, ours)):
                    started = time.monotonic()
                    list(pool.map(lambda call: call(), calls))
                    into.append(time.monotonic() - started)

                fresh_one.append(timed_status(bot, acks, "status --fresh", "U0OPER"))
                cached.append(timed_status(bot, acks, "status", "U0OPER"))

                cpu, mine, nodes_cpu = bot.cpu(), _cpu([psutil.Process()]), _cpu(supervisords)
                burst = list(
                    pool.map(lambda u: timed_status(bot, acks, "status --fresh", u), users)
                )
                fresh_many += burst
                if os.environ.get("BENCH_DEBUG"):
                    spent = bot.cpu() - cpu
                    bench = _cpu([psutil.Process()]) - mine
                    served = _cpu(supervisords) - nodes_cpu
                    print(
                        f"CPU for the burst: bot {spent * 1000:.0f} ms, bench and fake Slack "
                        f"{bench * 1000:.0f} ms, supervisords {served * 1000:.0f} ms;",
                        end=" ",
                    )
                    print(" ".join(f"{t * 1000:.0f}" for t in sorted(burst)), flush=True)

        raw_med, ours_med = statistics.median(raw), statistics.median(ours)

        def ratios(seconds: float) -> str:
            return f"{seconds / raw_med:.2f}× raw, {seconds / ours_med:.2f}× ours"

        print()
        print(
            f"500 processes on 2 nodes, {args.users} concurrent users, {args.rounds} rounds, "
            f"serve --workers {args.workers}, {os.cpu_count()} cores"
        )
        print(f"  raw getAllProcessInfo fan-out (2 nodes), xmlrpc.client: median {ms(raw_med)}")
        print(f"  the same read by supbot's transport (ours):        median {ms(ours_med)}")
        print(
            f"  ack latency over {len(acks)} requests: p50 {ms(pct(acks, 50))}, "
            f"p99 {ms(pct(acks, 99))}   (target p99 < 50 ms)"
        )
        one = statistics.median(fresh_one)
        print(f"  status --fresh, 1 user: median {ms(one)} = {ratios(one)} (target ≤ 1.2× raw)")
        many_med, many_p99 = statistics.median(fresh_many), pct(fresh_many, 99)
        print(
            f"  status --fresh, {args.users} users at once: median {ms(many_med)} "
            f"({ratios(many_med)}), p99 {ms(many_p99)} ({ratios(many_p99)})"
        )
        print(
            f"  status from cache, 1 user: median {ms(statistics.median(cached))} (target < 50 ms)"
        )
        return 0
    finally:
        if bot is not None:
            bot.close()
        fake.stop()
        receiver.stop()
        for sv in nodes:
            sv.stop()


if __name__ == "__main__":
    sys.exit(main())
