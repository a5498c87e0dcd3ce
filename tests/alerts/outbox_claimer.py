"""One claimer process of tests/alerts/test_outbox_claims.py (run as a script, not a test):
claims outbox heads and marks them sent until nothing is left, printing each claimed row id.

argv: the state directory, the PostgreSQL URL or "-", the file whose existence says "go".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bot.alerts.outbox import Outbox
from bot.config import StorageSettings
from bot.state import Store
from bot.storage.alerts.store import AlertStore

DEADLINE = 90.0


def main(directory: str, url: str, go: str) -> int:
    settings = StorageSettings(
        dir=Path(directory), retention=86400.0, url=None if url == "-" else url, password=None
    )
    alerts = AlertStore(Store(settings))
    outbox = Outbox(alerts)
    alerts.backlog()  # connected and the schema checked before the start
    print("ready", flush=True)
    while not Path(go).exists():
        time.sleep(0.005)
    ends = time.monotonic() + DEADLINE
    while time.monotonic() < ends:
        rows, wait = outbox.claim()
        for row in rows:
            print(row.id, flush=True)
            alerts.sent(row.id)
        if not rows:
            if not alerts.backlog():
                return 0
            time.sleep(min(wait, 0.02))
    return 1


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
