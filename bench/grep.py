"""Benchmark: `tail --grep` over the last 8 MiB of a log (target < 300 ms), through a real
supervisord, for a word with no match (the whole 8 MiB is read and matched) and for a word
found near the end, both ways a log is read: from the file (the node is on this host, what
`grep_log` picks here) and through XML-RPC windows (a node on another host).

    .venv/bin/python bench/grep.py [--runs N] [--size-mb 64]

Also prints the share of the time spent in the matching child (bot/log_match.py).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot.embedded import EmbeddedSupervisor  # noqa: E402
from bot.log_file import LogWindows, RpcLog, log_windows  # noqa: E402
from bot.log_match import match_lines  # noqa: E402
from bot.log_search import GrepRequest, search_log  # noqa: E402
from bot.redact import Redactor  # noqa: E402
from bot.supervisor.client import NodeClient  # noqa: E402

TARGET = 0.300


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--size-mb", type=int, default=64)
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="sbg-", dir="/tmp"))
    log = root / "big.log"
    line = b"2026-01-01 12:00:00 GET /api/orders?id=12345 200 12ms caf\xc3\xa9 \xe2\x82\xac ok\n"
    with log.open("wb") as f:
        chunk = line * (1024 * 1024 // len(line))
        for _ in range(args.size_mb):
            f.write(chunk)
        f.write(b"2026-01-01 12:00:01 ERROR near the end\n")
    programs = f"""
[program:big]
command=/bin/sleep 100000
startsecs=0
stdout_logfile={log}
stdout_logfile_maxbytes=0
"""
    sv = EmbeddedSupervisor(root / "sv", programs)
    sv.start()
    try:
        client = NodeClient(sv.node())
        deadline = time.monotonic() + 15
        while client.process("big:big").state != "RUNNING" and time.monotonic() < deadline:
            time.sleep(0.1)
        redactor = Redactor()
        results = {}
        size = client.log_size("big:big")
        with log_windows(client, "big:big", "stdout", size) as from_file:
            assert not isinstance(from_file, RpcLog), "the log file is not readable here"
            for way, log in (("file", from_file), ("xml-rpc", RpcLog(client, "big:big", "stdout"))):
                for what, pattern in (("no match", "NOWHERE"), ("match near end", "ERROR")):
                    label = f"{way}: {what}"
                    results[label] = _median(label, log, pattern, size, redactor, args.runs)
        lines = (line.decode() * (8 * 1024 * 1024 // len(line))).splitlines()
        started = time.perf_counter()
        match_lines("NOWHERE", False, lines, 10)
        print(f"{'child match of 8 MiB':24} {(time.perf_counter() - started) * 1000:7.1f} ms")
    finally:
        sv.stop()
    worst = results["file: no match"]
    ok = worst < TARGET
    print(
        f"{'PASS' if ok else 'FAIL'}  grep of 8 MiB from the file < {TARGET * 1000:.0f} ms: "
        f"{worst * 1000:.0f} ms (xml-rpc, for remote nodes: "
        f"{results['xml-rpc: no match'] * 1000:.0f} ms)"
    )
    return 0 if ok else 1


def _median(
    label: str, log: LogWindows, pattern: str, size: int, redactor: Redactor, runs: int
) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        tail = search_log(log, "bench", "big:big", GrepRequest(pattern), redactor, size, 8 << 20)
        times.append(time.perf_counter() - started)
    assert tail.search is not None
    took = statistics.median(times)
    print(
        f"{label:24} {took * 1000:7.1f} ms  (searched {tail.search.searched / 1024**2:.2f} MiB "
        f"of {tail.search.size / 1024**2:.0f} MiB, {tail.search.matches} match)"
    )
    return took


if __name__ == "__main__":
    sys.exit(main())
