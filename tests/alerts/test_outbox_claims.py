"""8 processes claim from one outbox at once (SQLite; PostgreSQL with SKIP LOCKED): every row
is claimed and marked sent exactly once, and each channel's rows go one at a time, in order."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.state import Store
from bot.storage.alerts.store import AlertStore
from bot.storage.tables import alert_outbox
from tests.conftest import storage_settings

CLAIMERS = 8
CHANNELS = 30
PER_CHANNEL = 4  # past the pace's burst of 3: the last row of each channel waits for a token
CLAIMER = Path(__file__).with_name("outbox_claimer.py")


def test_eight_claimers_send_every_row_once_in_channel_order(
    engine: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    settings = storage_settings(engine, tmp_path, request)
    alerts = AlertStore(Store(settings))
    with alerts.transaction() as tx:
        ids = [
            tx.enqueue(f"C{c:02d}", "digest", 0, {"text": f"{c}/{n}"})
            for n in range(PER_CHANNEL)
            for c in range(CHANNELS)
        ]
    go = tmp_path / "go"
    argv = [str(settings.dir), settings.url or "-", str(go)]
    procs = [
        subprocess.Popen(
            [sys.executable, str(CLAIMER), *argv],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(CLAIMERS)
    ]
    try:
        for proc in procs:  # all connected before any claims: they contend from the start
            assert proc.stdout is not None
            assert proc.stdout.readline().strip() == "ready", proc.stderr
        go.touch()
        outputs = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            proc.kill()
    assert [p.returncode for p in procs] == [0] * CLAIMERS, [err for _, err in outputs]
    claimed = Counter(int(line) for out, _ in outputs for line in out.split())
    assert sorted(claimed) == sorted(ids)
    assert set(claimed.values()) == {1}  # no row claimed twice
    _assert_one_at_a_time_in_order(alerts.store)


def _assert_one_at_a_time_in_order(store: Store) -> None:
    """Each row of a channel was claimed only after the one before it was sent."""
    c = alert_outbox.c
    with store.connect() as db:
        rows = db.execute(select(c.channel, c.status, c.claimed_at, c.sent).order_by(c.id)).all()
    assert {r.status for r in rows} == {"sent"}
    by_channel: dict[str, list[tuple[float, float]]] = {}
    for r in rows:
        by_channel.setdefault(r.channel, []).append((r.claimed_at, r.sent))
    for channel, sends in by_channel.items():
        for (_, sent_before), (claimed, _) in zip(sends, sends[1:], strict=False):
            assert claimed >= sent_before, (
                f"{channel}: a row was claimed before the previous was sent"
            )
