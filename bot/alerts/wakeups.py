"""Work written by another process wakes the delivery loop at once: one thread per topic
waits on the state's notifications (`Store.waiter`: LISTEN on PostgreSQL, this process's
commits on SQLite) and sets the loop's wake event. The loop still looks at its own interval,
so a notification lost while the database was away costs one interval, never an alert."""

from __future__ import annotations

import threading

from bot.state import Store

TOPICS = ("events", "outbox")  # a recorded event; a queued (or released) outbox row
STOP_CHECK = 1.0  # how long a relay thread may take to notice the loop stopped


def relay(store: Store, wake: threading.Event, stop: threading.Event) -> list[threading.Thread]:
    """Start the relay threads; they end (and stop listening) once `stop` is set."""
    threads = [
        threading.Thread(
            target=_relay, args=(store, topic, wake, stop), name=f"alerts-wake-{topic}", daemon=True
        )
        for topic in TOPICS
    ]
    for thread in threads:
        thread.start()
    return threads


def _relay(store: Store, topic: str, wake: threading.Event, stop: threading.Event) -> None:
    waiter = store.waiter(topic)
    try:
        while not stop.is_set():
            if waiter.wait(STOP_CHECK):
                wake.set()
    finally:
        waiter.stop()
