"""All nodes together: parallel reads, one in-flight read per node (per host with
`shared_reads`, bot/supervisor/shared_reads.py), a short status cache."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from fnmatch import fnmatchcase
from functools import partial
from pathlib import Path

from bot import errors, names
from bot.asked import asked_at
from bot.config import NodeSettings
from bot.domain import NodeStatus, ProcessInfo
from bot.supervisor.client import NodeClient
from bot.supervisor.shared_reads import SharedReads
from bot.usertext import quote


class Fleet:
    """Status of every node. A dead node costs one timeout, in parallel with the others;
    concurrent askers of the same node share one `getAllProcessInfo`."""

    def __init__(
        self,
        nodes: Iterable[NodeSettings],
        cache_ttl: float = 5.0,
        shared_reads: Path | None = None,
    ) -> None:
        self.clients = {n.name: NodeClient(n) for n in nodes}
        self.cache_ttl = cache_ttl
        self._shared = SharedReads(shared_reads) if shared_reads is not None else None
        self._cache: dict[str, NodeStatus] = {}
        self._inflight: dict[str, Future[NodeStatus]] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=max(4, len(self.clients) * 2))

    def client(self, node: str) -> NodeClient:
        try:
            return self.clients[node]
        except KeyError:
            known = ", ".join(self.clients)
            raise errors.UsageError(f"Unknown node {quote(node, 40)}; nodes: {known}.") from None

    def nodes_for(self, node: str | None) -> list[str] | None:
        """The nodes a pattern's `@node` part can name (None: every node). Reading only those
        keeps a hung node from delaying answers about the others; an unknown plain name is a
        UsageError naming the known nodes."""
        if node is None or node == "*":
            return None
        if node in self.clients:
            return [node]
        if not names.is_glob(node):
            self.client(node)  # raises
        return [name for name in self.clients if fnmatchcase(name, node)]

    @property
    def multi_node(self) -> bool:
        return len(self.clients) > 1

    def status(
        self,
        nodes: Iterable[str] | None = None,
        fresh: bool = False,
        meanwhile: Callable[[], object] | None = None,
    ) -> list[NodeStatus]:
        """One NodeStatus per node (error set when unreachable), fetched in parallel;
        `meanwhile()` runs while the reads are in flight."""
        chosen = list(nodes) if nodes is not None else list(self.clients)
        futures = [self._status_future(name, fresh) for name in chosen]
        if meanwhile is not None:
            meanwhile()
        return [f.result() for f in futures]

    def _status_future(self, name: str, fresh: bool) -> Future[NodeStatus]:
        client = self.client(name)
        asked = asked_at()
        with self._lock:
            cached = self._cache.get(name)
            if cached is not None and (
                cached.answered_at >= asked  # in flight when asked: as fresh (bot/asked.py)
                if fresh
                else time.time() - cached.fetched_at < self.cache_ttl
            ):
                done: Future[NodeStatus] = Future()
                done.set_result(cached)
                return done
            running = self._inflight.get(name)
            if running is not None:
                return running
            future = self._pool.submit(self._read, client, asked)
            self._inflight[name] = future
        return future

    def read_now(self, name: str) -> tuple[ProcessInfo, ...]:
        """The node's processes from a read that starts now, never one already in flight (the
        watcher reads supervisord's log first: the snapshot must be newer than that), raising
        NodeUnreachable as NodeClient does. Shared all the same: whoever asks for the node's
        status while it runs — in this process, and on this host with shared reads — takes
        its answer, and the status cache keeps it, so a poll never delays a user's status."""
        client = self.client(name)
        while True:
            with self._lock:
                running = self._inflight.get(name)
                if running is None:
                    mine: Future[NodeStatus] = Future()
                    self._inflight[name] = mine
                    break
            running.exception()  # wait for it to end, whatever its outcome
        failed: list[errors.SupbotError] = []
        try:
            status = self._fetch(client, join=False, failed=failed)
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        finally:
            with self._lock:
                self._inflight.pop(name, None)
        mine.set_result(status)
        if failed:
            raise failed[0]
        return status.processes

    def _read(self, client: NodeClient, asked: float) -> NodeStatus:
        try:
            status = self._fetch(client, asked=asked)
        finally:
            # even a bug must not leave a failed read in flight for every later asker
            with self._lock:
                self._inflight.pop(client.name, None)
        return status

    def _fetch(
        self,
        client: NodeClient,
        join: bool = True,
        failed: list[errors.SupbotError] | None = None,
        asked: float | None = None,
    ) -> NodeStatus:
        if self._shared is not None:
            status = self._shared.read(client.name, partial(self._ask, client, failed), join, asked)
        else:
            status = self._ask(client, failed)
        if status.error is None:
            with self._lock:
                self._cache[client.name] = status
        return status

    def _ask(
        self, client: NodeClient, failed: list[errors.SupbotError] | None = None
    ) -> NodeStatus:
        """A failure is the status's `error` (and appended to `failed`, when given)."""
        started = time.time()
        try:
            processes = client.all_processes()
        except errors.NodeUnreachable as exc:
            if failed is not None:
                failed.append(exc)
            return NodeStatus(client.name, (), started, exc.reason, client.local)
        except errors.SupbotError as exc:  # an odd Fault: this node's error, not everyone's
            if failed is not None:
                failed.append(exc)
            return NodeStatus(client.name, (), started, str(exc), client.local)
        return NodeStatus(client.name, processes, started, None, client.local, time.time())

    def invalidate(self, node: str | None = None) -> None:
        """Forget cached status after an action, so the next read is fresh."""
        with self._lock:
            if node is None:
                self._cache.clear()
            else:
                self._cache.pop(node, None)

    def processes(
        self, nodes: Iterable[str] | None = None, fresh: bool = False
    ) -> tuple[list[ProcessInfo], list[NodeStatus]]:
        statuses = self.status(nodes, fresh=fresh)
        return [p for s in statuses for p in s.processes], statuses

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
