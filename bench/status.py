"""Benchmark: supbot's status and tail against raw XML-RPC and supervisorctl, same run.

    .venv/bin/python bench/status.py [--runs N] [--sizes 10,100,500] [--no-tail]

For 10 / 100 / 500 processes (one program with numprocs) it prints the median of N runs of:
one raw getAllProcessInfo (supervisor's SupervisorTransport, a kept connection), our in-process
NodeClient.all_processes, `supbot status --json` and `supervisorctl status` as subprocesses;
then the same over HTTP (raw on a fresh connection, raw on a kept-alive connection, ours);
then the time to tail 100 lines from a 1 MB and from a 1 GB log. Targets are checked at the end.
Machines shared by others are noisy: compare the ratios, not the absolute times.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from collections.abc import Callable
from pathlib import Path

from supervisor.xmlrpc import SupervisorTransport

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.embedded import EmbeddedSupervisor  # noqa: E402
from bot.supervisor.client import NodeClient  # noqa: E402

SLEEP = shutil.which("sleep") or "/bin/sleep"
LINE = b"2026-01-01 12:00:00 GET /api/orders?id=12345 200 12ms caf\xc3\xa9 \xe2\x82\xac ok\n"


def medians(fns: dict[str, Callable[[], object]], runs: int) -> dict[str, float]:
    """Median seconds of each function; runs are interleaved (in random order) so that load
    changes on a shared machine hit all alike."""
    for fn in fns.values():
        fn()  # warm up: imports, config cache, first connection
    times: dict[str, list[float]] = {name: [] for name in fns}
    order = list(fns.items())
    for _ in range(runs):
        random.shuffle(order)  # no function always runs right after a slow one
        for name, fn in order:
            started = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) for name, t in times.items()}


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def fleet_programs(n: int) -> str:
    return f"""
[program:p]
command={SLEEP} 100000
process_name=%(program_name)s_%(process_num)03d
numprocs={n}
startsecs=0
autorestart=false
stdout_logfile=NONE
stderr_logfile=NONE
"""


def raw_unix(sv: EmbeddedSupervisor) -> xmlrpc.client.ServerProxy:
    transport = SupervisorTransport(None, None, sv.url)
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport)


def raw_http(sv: EmbeddedSupervisor) -> xmlrpc.client.ServerProxy:
    url = f"http://127.0.0.1:{sv.http_port}"
    transport = SupervisorTransport(sv.http_user, sv.http_password, url)
    return xmlrpc.client.ServerProxy(url + "/RPC2", transport=transport)


def wait_running(sv: EmbeddedSupervisor, n: int, seconds: float = 180) -> None:
    deadline = time.monotonic() + seconds
    proxy = raw_unix(sv)
    while time.monotonic() < deadline:
        rows = proxy.supervisor.getAllProcessInfo()
        if sum(r["statename"] == "RUNNING" for r in rows) == n:
            return
        time.sleep(0.2)
    raise SystemExit(f"{n} processes did not reach RUNNING in {seconds}s")


def run_quiet(argv: list[str], env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, check=False)


def supbot_argv() -> list[str]:
    script = Path(sys.executable).parent / "supbot"
    return [str(script)] if script.exists() else [sys.executable, "-m", "bot"]


def bench_status(n: int, runs: int, work: Path) -> dict[str, float]:
    sv = EmbeddedSupervisor(work / f"sv{n}", fleet_programs(n), http_port=free_port())
    sv.start()
    try:
        wait_running(sv, n)
        config = work / f"supbot{n}.toml"
        config.write_text(
            f'[storage]\ndir = "state{n}"\n[[nodes]]\nname = "local"\nurl = "{sv.url}"\n'
            'timeout = "30s"\n'
        )
        env = {**os.environ, "SUPBOT_CONFIG": str(config)}
        kept_unix, kept_http = raw_unix(sv), raw_http(sv)
        ours = NodeClient(sv.node(timeout=30))
        ours_http = NodeClient(sv.http_node(timeout=30))
        sctl = [sys.executable, "-m", "supervisor.supervisorctl", "-c", str(sv.conf), "status"]
        calls = medians(
            {
                "raw": lambda: raw_unix(sv).supervisor.getAllProcessInfo(),
                "raw_kept": kept_unix.supervisor.getAllProcessInfo,
                "ours": ours.all_processes,
                "http_fresh": lambda: raw_http(sv).supervisor.getAllProcessInfo(),
                "http_kept": kept_http.supervisor.getAllProcessInfo,
                "http_ours": ours_http.all_processes,
            },
            runs,
        )
        clis = medians(
            {
                "supbot": lambda: run_quiet([*supbot_argv(), "status", "--json"], env),
                "supervisorctl": lambda: run_quiet(sctl),
            },
            max(3, runs // 2),
        )
        return calls | clis
    finally:
        sv.stop(timeout=120)


def fill(path: Path, size: int) -> float:
    """Write `size` bytes of log lines to `path`; returns the seconds it took."""
    started = time.monotonic()
    block = LINE * (1024 * 1024 // len(LINE))
    with path.open("wb") as f:
        written = 0
        while written + len(block) <= size:
            f.write(block)
            written += len(block)
        f.write(LINE * ((size - written) // len(LINE)))
    return time.monotonic() - started


def bench_tail(runs: int, work: Path) -> dict[str, float]:
    logs = work / "taillogs"
    logs.mkdir()
    small, big = logs / "small.log", logs / "big.log"
    fill(small, 1024 * 1024)
    created = fill(big, 1024 * 1024 * 1024)
    programs = "".join(
        f"""
[program:{name}]
command={sys.executable} -u -c "print('started', flush=True); import time; time.sleep(100000)"
stdout_logfile={path}
stdout_logfile_maxbytes=0
redirect_stderr=true
startsecs=0
"""
        for name, path in (("small", small), ("big", big))
    )
    sv = EmbeddedSupervisor(work / "svtail", programs)
    sv.start()
    try:
        wait_running(sv, 2)
        client = NodeClient(sv.node(timeout=30))
        assert len(client.tail("big:big", 100).lines) == 100
        tails = medians(
            {
                "tail_1mb": lambda: client.tail("small:small", 100),
                "tail_1gb": lambda: client.tail("big:big", 100),
            },
            runs * 2,
        )
        return tails | {"fill_1gb": created, "big_bytes": float(big.stat().st_size)}
    finally:
        sv.stop()
        big.unlink(missing_ok=True)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:8.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs per measurement (median)")
    parser.add_argument("--sizes", default="10,100,500")
    parser.add_argument("--no-tail", action="store_true", help="skip the 1 GB tail benchmark")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    work = Path(tempfile.mkdtemp(prefix="sbb-", dir="/tmp"))
    verdicts: list[tuple[str, float, float]] = []
    try:
        print(f"median of {args.runs} runs (CLI: {max(3, args.runs // 2)}); times in ms\n")
        header = (
            f"{'procs':>5} | {'raw unix':>8} {'kept':>8} {'ours':>8} {'ratio':>6} | "
            f"{'supbot':>8} {'sctl':>8} {'ratio':>6} | "
            f"{'http new':>8} {'kept':>8} {'ours':>8} {'ratio':>6}"
        )
        print(header)
        print("-" * len(header))
        for n in sizes:
            r = bench_status(n, args.runs, work)
            unix_ratio = r["ours"] / r["raw"]
            cli_ratio = r["supbot"] / r["supervisorctl"]
            http_ratio = r["http_ours"] / r["http_fresh"]
            print(
                f"{n:>5} | {ms(r['raw'])} {ms(r['raw_kept'])} {ms(r['ours'])} {unix_ratio:6.2f} | "
                f"{ms(r['supbot'])} {ms(r['supervisorctl'])} {cli_ratio:6.2f} | "
                f"{ms(r['http_fresh'])} {ms(r['http_kept'])} {ms(r['http_ours'])} "
                f"{http_ratio:6.2f}",
                flush=True,
            )
            verdicts.append(
                (f"in-process status ≤ 1.2× raw unix call ({n} procs)", unix_ratio, 1.2)
            )
            verdicts.append(
                (f"HTTP status ≤ 1.2× raw fresh connection ({n} procs)", http_ratio, 1.2)
            )
            verdicts.append(
                (
                    f"(info) in-process ÷ raw on a kept unix connection ({n} procs)",
                    r["ours"] / r["raw_kept"],
                    0.0,
                )
            )
        print(
            "\nraw unix = one getAllProcessInfo through supervisor's SupervisorTransport, as one\n"
            "supervisorctl call makes it (kept = the same transport reused); ours = NodeClient;\n"
            "ratios: ours ÷ raw unix; supbot status --json ÷ supervisorctl status; HTTP ours ÷\n"
            "raw on a new connection. HTTP kept shows supervisord's keep-alive stall."
        )
        if not args.no_tail:
            t = bench_tail(args.runs, work)
            tail_ratio = t["tail_1gb"] / t["tail_1mb"]
            print(
                f"\ntail 100 lines: 1 MB log {ms(t['tail_1mb']).strip()} ms, "
                f"1 GB log ({t['big_bytes'] / 2**30:.2f} GiB, written in {t['fill_1gb']:.1f}s) "
                f"{ms(t['tail_1gb']).strip()} ms, ratio {tail_ratio:.2f}"
            )
            verdicts.append(("tail 1 GB ≤ 2× tail 1 MB", tail_ratio, 2.0))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print()
    failed = 0
    for label, ratio, limit in verdicts:
        if not limit:
            print(f"      {label}: {ratio:.2f}")
            continue
        ok = ratio <= limit
        failed += not ok
        print(f"{'PASS' if ok else 'FAIL'}  {label}: {ratio:.2f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
