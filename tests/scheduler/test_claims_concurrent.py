"""Eight processes claiming the same job slots and the same exclusive job at once, on both
engines: each slot runs exactly once, and the job's lock has one holder at a time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bot.state import Store
from bot.storage.jobs import History
from tests.conftest import storage_settings

CLAIMERS = 8
SLOTS = [1_700_000_040.0 + 60 * i for i in range(20)]
ROUNDS = 15

CLAIMER = f"""
import sys, time
from pathlib import Path
from bot.config import StorageSettings
from bot.scheduler.locks import SUPERVISED, Locks
from bot.state import Store
from bot.storage.jobs import History

directory, url = Path(sys.argv[1]), sys.argv[2] or None
locks = Locks(History(Store(StorageSettings(directory, 3600.0, url, None, True))), lambda p: "")

def done(run_id):
    locks.history.finish(run_id, "ok", 0, "")
    SUPERVISED.discard(run_id)

print("ready", flush=True)
sys.stdin.readline()  # start together
for slot in {SLOTS!r}:
    claim = locks.claim("tick", False, "schedule", slot=slot)
    if claim.run_id:
        done(claim.run_id)
held = 0
for _ in range({ROUNDS}):
    claim = locks.claim("excl", True, "cli")
    if claim.run_id:
        held += 1
        time.sleep(0.01)  # holding it: nobody else may start it meanwhile
        done(claim.run_id)
print("done", held, flush=True)
"""


def test_eight_processes_claim_each_slot_once_and_hold_the_lock_one_at_a_time(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = storage_settings(engine, tmp_path, request)
    store = Store(settings)
    store.ensure()  # the schema once, before they start
    root = Path(__file__).resolve().parents[2]
    claimers = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(settings.dir), settings.url or ""],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for _ in range(CLAIMERS)
    ]
    try:
        for c in claimers:
            assert c.stdout and c.stdout.readline().strip() == "ready"
        for c in claimers:
            assert c.stdin
            c.stdin.write("go\n")
            c.stdin.flush()
        outputs = [c.communicate(timeout=120)[0].split() for c in claimers]
    finally:
        for c in claimers:
            c.kill()
    assert all(c.returncode == 0 for c in claimers)
    history = History(store)
    ticks = history.recent("tick", 1000)
    assert sorted(r.scheduled for r in ticks if r.scheduled is not None) == SLOTS
    runs = sorted(history.recent("excl", 1000), key=lambda r: r.started)
    assert sum(int(out[1]) for out in outputs) == len(runs) >= 1
    for before, after in zip(runs, runs[1:], strict=False):
        assert before.ended is not None and after.started >= before.ended  # never two at once
    store.close()
