"""State storage benchmarks on both engines in one run: `python bench/storage.py`.

1. outbox: enqueue (one transaction per row, as writers do) → claim (Outbox.claim, the
   delivery loop's) → mark sent, over ROWS rows in as many channels (so pacing never waits):
   enqueue p50/p99 per row, rows/s through claim+sent, and per-row p99 from enqueue to sent;
2. job claims: Locks.claim of an exclusive job then finish (the scheduler's path), p50/p99.
SQLite is a file in a temp dir; PostgreSQL a throwaway server started here (initdb/pg_ctl,
as the tests do), on loopback. The ratio column is PostgreSQL ÷ SQLite.

    .venv/bin/python bench/storage.py [--rows 2000] [--claims 500]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.alerts.outbox import Outbox  # noqa: E402
from bot.config import StorageSettings  # noqa: E402
from bot.scheduler.locks import Locks  # noqa: E402
from bot.state import Store  # noqa: E402
from bot.storage.alerts.store import AlertStore  # noqa: E402
from bot.storage.jobs import History  # noqa: E402
from tests.storage.postgres import PostgresServer  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def outbox(store: Store, rows: int) -> dict[str, float]:
    alerts = AlertStore(store)
    enqueued: dict[int, float] = {}
    enqueue_times = []
    for i in range(rows):
        began = time.perf_counter()
        with alerts.transaction() as tx:
            row_id = tx.enqueue(f"C{i:05d}", "plain", payload={"text": f"bench {i}"})
        done = time.perf_counter()
        enqueue_times.append(done - began)
        enqueued[row_id] = done
    box = Outbox(alerts)
    latencies = []
    began = time.perf_counter()
    while enqueued:
        claimed, _ = box.claim()
        for row in claimed:
            alerts.sent(row.id)
            latencies.append(time.perf_counter() - enqueued.pop(row.id))
    through = time.perf_counter() - began
    return {
        "enqueue p50 ms": statistics.median(enqueue_times) * 1000,
        "enqueue p99 ms": pct(enqueue_times, 0.99) * 1000,
        "claim+sent rows/s": rows / through,
        "enqueue→sent p99 ms": pct(latencies, 0.99) * 1000,
    }


def job_claims(store: Store, claims: int) -> dict[str, float]:
    history = History(store)
    locks = Locks(history, lambda path: "")
    times = []
    for _ in range(claims):
        began = time.perf_counter()
        claim = locks.claim("bench", True, "cli", actor="bench")
        times.append(time.perf_counter() - began)
        assert claim.run_id, claim
        history.finish(claim.run_id, "ok", 0, "")
    return {
        "job claim p50 ms": statistics.median(times) * 1000,
        "job claim p99 ms": pct(times, 0.99) * 1000,
    }


def measure(settings: StorageSettings, rows: int, claims: int) -> dict[str, float]:
    store = Store(settings)
    store.ensure()
    try:
        return outbox(store, rows) | job_claims(store, claims)
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--claims", type=int, default=500)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="sb-bench-storage-"))
    sqlite = measure(StorageSettings(dir=tmp / "sqlite"), args.rows, args.claims)
    server = PostgresServer()
    server.start()
    try:
        pg_settings = StorageSettings(dir=tmp / "pg", url=server.database())
        postgresql = measure(pg_settings, args.rows, args.claims)
    finally:
        server.stop()
    print(f"state storage, {args.rows} outbox rows, {args.claims} job claims (one thread)")
    print(f"{'figure':<22}{'SQLite':>10}{'PostgreSQL':>12}{'ratio':>8}")
    for name, value in sqlite.items():
        other = postgresql[name]
        print(f"{name:<22}{value:>10.2f}{other:>12.2f}{other / value:>8.2f}")


if __name__ == "__main__":
    main()
