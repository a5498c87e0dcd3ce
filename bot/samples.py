"""Memory and CPU of a node's processes, sampled on the node's own host and kept in the state,
so `info` and `status` show them for nodes on other hosts too.

`SampleLoop` runs on the host (a thread of `supbot listen`; an agent may run one too): every
SAMPLE_EVERY seconds it asks its supervisord for the running pids, reads RSS (with children)
and CPU with psutil, and records one row for the node. Rounds older than KEPT (the sparkline's
hour) are deleted by the samplers themselves. `SampleReader` is what the bot reads.

`SampleReader` also counts restarts (bot/storage/restarts.py) to show next to the sparklines.
No SQLAlchemy or psutil at import: `status` and `info` import this module.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from bot import errors
from bot.samples_records import NodeUsage, ProcessUsage, RecentHistory, Usage

if TYPE_CHECKING:
    from bot.checks.probe import Sampler
    from bot.state import Store

log = logging.getLogger("supbot.samples")

SAMPLE_EVERY = 10.0
KEPT = 3600.0  # the sparkline's window; older rounds are deleted
PRUNE_EVERY = 60.0
STATUS_FRESH = 300.0  # `status` shows a node's figures only from a round this recent
RESTARTS_WINDOW = 86400.0  # `info` and App Home count the restarts of the last 24 h


class SampleLoop:
    """Samples the processes of `node` (whose supervisord `client` reaches) on this host."""

    def __init__(self, store: Store, node: str, client: Any, every: float = SAMPLE_EVERY) -> None:
        self.store, self.node, self.client, self.every = store, node, client, every
        self.name = f"samples-{node}"
        self._sampler: Sampler | None = None
        self._problem = ""
        self._pruned = 0.0

    def start(self, stop: threading.Event) -> threading.Thread:
        thread = threading.Thread(target=self.run, args=(stop,), name=self.name, daemon=True)
        thread.start()
        return thread

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            started = time.monotonic()
            self.step()
            stop.wait(max(1.0, self.every - (time.monotonic() - started)))

    def step(self) -> int:
        """One round, never raising: a node or state that does not answer is said once and
        tried again next round. Returns the processes sampled."""
        try:
            count = self.once()
        except errors.SupbotError as exc:  # the node unreachable, the state unavailable
            if str(exc) != self._problem:
                log.warning(
                    "samples of %s not recorded: %s; trying every %.0fs", self.node, exc, self.every
                )
            self._problem = str(exc)
            return 0
        except Exception:  # a bug must not end the thread: the next round may work
            log.exception("samples of %s not recorded", self.node)
            return 0
        if self._problem:
            log.info("samples of %s recorded again", self.node)
            self._problem = ""
        return count

    def once(self) -> int:
        from bot.checks.probe import Sampler

        sampler = self._sampler = self._sampler or Sampler()
        running = [p for p in self.client.all_processes() if p.pid]
        sampler.new_round()
        usage: dict[str, Usage] = {}
        for p in running:
            found = sampler.sample(p.pid)
            if found is not None:
                usage[p.full_name] = Usage(found.rss, found.cpu, p.pid)
        sampler.forget_except({p.pid for p in running})
        self._record(usage)
        return len(usage)

    def _record(self, usage: dict[str, Usage]) -> None:
        from bot.storage import samples

        with self.store.connect() as db:
            now = self.store.now(db)
            samples.record(db, self.node, now, usage)
            if now - self._pruned >= PRUNE_EVERY:
                samples.prune(db, now - KEPT)
                self._pruned = now


class SampleReader:
    """The recorded figures, for `info` and `status`. A state that cannot answer gives none
    (the figures are an extra; the command still answers)."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def nodes(self, names: Iterable[str]) -> dict[str, NodeUsage]:
        from bot.storage import samples

        try:
            with self.store.connect() as db:
                now = self.store.now(db)
                return samples.latest_totals(db, names, now - STATUS_FRESH, now)
        except errors.StateUnavailable:
            return {}

    def process(self, node: str, process: str) -> ProcessUsage | None:
        from bot.storage import samples

        try:
            with self.store.connect() as db:
                now = self.store.now(db)
                rounds = samples.history(db, node, process, now - KEPT)
        except errors.StateUnavailable:
            return None
        if not rounds:
            return None
        at, latest = rounds[-1]
        return ProcessUsage(latest, max(0.0, now - at), tuple(u for _, u in rounds))

    def restarts(self, node: str, process: str) -> int | None:
        """Restarts in the last RESTARTS_WINDOW; None when not known (node not watched, state
        unavailable)."""
        from bot.storage import restarts

        try:
            with self.store.connect() as db:
                now = self.store.now(db)
                found = restarts.since(db, [node], now - RESTARTS_WINDOW)
        except errors.StateUnavailable:
            return None
        return found[node].get(process, 0) if node in found else None

    def recent(self, processes: Iterable[tuple[str, str]]) -> dict[tuple[str, str], RecentHistory]:
        """(node, process) → memory of the last hour and restarts, for App Home's rows."""
        from bot.storage import restarts, samples

        by_node: dict[str, list[str]] = {}
        for node, process in processes:
            by_node.setdefault(node, []).append(process)
        try:
            with self.store.connect() as db:
                now = self.store.now(db)
                counted = restarts.since(db, by_node, now - RESTARTS_WINDOW)
                memory = {n: samples.histories(db, n, ps, now - KEPT) for n, ps in by_node.items()}
        except errors.StateUnavailable:
            return {}
        return {
            (node, p): RecentHistory(
                tuple(u.rss for u in memory[node].get(p, [])),
                counted[node].get(p, 0) if node in counted else None,
            )
            for node, ps in by_node.items()
            for p in ps
        }
