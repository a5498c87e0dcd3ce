"""Process operations for every surface: status, info, start/stop/restart/signal, tail, clear.

Takes an `Access` (who may do what), returns domain objects, audits every mutating action.
Actions are planned once (`plan`, bot/action_plan.py), then carried out (`carry_out`).

Speed trick — status views, memoized by identity. What: the visible processes, shown nodes
and totals `status()` computes from one fleet read for one set of grants and one pattern.
Key: the grants, the pattern and the *identity* of each node's status (`Same`), so no
500-process tuple is hashed. How long: the last 16 keys; in practice as long as the fleet
read behind it is served (`[slack] status_cache_ttl`, 5 s by default) — a new read is a new
object, so an old entry is never hit again. Why: 20 people asking at once in an incident get
the view computed once, and the very same tuples, which lets the Slack layer reuse its
rendering too (bot/slack/fastpath.py, 3.). Views are shared: no caller may mutate one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace

from bot import errors, names
from bot.action_plan import ActionPlan, plan_action, resolve
from bot.audit import AuditLog
from bot.auth import Access
from bot.domain import ActionOutcome, LogTail, NodeStatus, ProcessInfo, Totals
from bot.log_search import DEFAULT_SEARCH_BYTES, GrepRequest, grep_log
from bot.memo import Memo, Same
from bot.redact import Redactor
from bot.redact_follow import FollowRedactor
from bot.samples_records import ProcessUsage
from bot.supervisor.client import MAX_TAIL_LINES, NodeClient
from bot.supervisor.fleet import Fleet

ACTIONS = ("start", "stop", "restart", "signal", "clear")
_SEEN_BYTES = 16 * 1024  # how much of a shown tail a follow reads again: enough for a key block


@dataclass(frozen=True)
class StatusView:
    processes: tuple[ProcessInfo, ...]
    nodes: tuple[NodeStatus, ...]
    totals: Totals
    cache_age: float
    pattern: str = ""

    def totals_by_node(self) -> dict[str, Totals]:
        return {
            n.node: Totals.of([p for p in self.processes if p.node == n.node]) for n in self.nodes
        }


@dataclass(frozen=True)
class ProcessDetails:
    process: ProcessInfo
    log_preview: tuple[str, ...]
    local: bool
    usage: ProcessUsage | None = None  # sampled on the node's host: the last hour, its age
    sampled: bool = False  # the memory and CPU shown come from `usage`, not read just now
    restarts: int | None = None  # in the last 24 h, from the alerts' events; None: not known


@dataclass(frozen=True)
class ActionReport:
    action: str
    pattern: str
    actor: str
    outcomes: tuple[ActionOutcome, ...]
    seconds: float

    @property
    def ok(self) -> bool:
        return all(o.ok for o in self.outcomes)


def _view(
    access: Access, statuses: list[NodeStatus], pattern: str
) -> tuple[tuple[ProcessInfo, ...], tuple[NodeStatus, ...], Totals]:
    """The processes `access` may see that `pattern` names, the nodes to show, their totals."""
    visible = access.visible(p for s in statuses for p in s.processes)
    if pattern:
        name, _ = names.split_node(pattern)
        chosen = names.select(visible, pattern)
        if not chosen and name not in ("", "*"):
            raise errors.NoSuchProcess(pattern, names.suggest(pattern, visible))
        visible = chosen
    on = {p.node for p in visible}
    shown = tuple(s for s in statuses if s.error or s.node in on)
    return tuple(visible), shown, Totals.of(visible)


class ProcessService:
    def __init__(
        self,
        fleet: Fleet,
        audit: AuditLog,
        redactor: Redactor,
        search_bytes: int = DEFAULT_SEARCH_BYTES,
    ) -> None:
        self.fleet, self.audit, self.redactor = fleet, audit, redactor
        self.search_bytes = search_bytes  # [logs] search_bytes: how far back `--grep` reads
        # Called before each process action (alerts mark supbot's own stops as expected).
        self.before_action: list[Callable[[str, ProcessInfo], None]] = []
        # Recorded samples (bot/samples.py), wired in bot/wiring.py: figures for remote nodes.
        self.usage: Callable[[str, str], ProcessUsage | None] | None = None
        self.restarts: Callable[[str, str], int | None] | None = None  # of the last 24 h
        self._views: Memo[tuple[tuple[ProcessInfo, ...], tuple[NodeStatus, ...], Totals]] = Memo(16)

    # --- reading -----------------------------------------------------------------------

    def status(
        self,
        access: Access,
        pattern: str = "",
        fresh: bool = False,
        meanwhile: Callable[[], object] | None = None,
    ) -> StatusView:
        """`meanwhile()` runs while the nodes are read (the dispatcher asks the state then)."""
        _, node = names.split_node(pattern) if pattern else ("", None)
        statuses = self.fleet.status(self.fleet.nodes_for(node), fresh=fresh, meanwhile=meanwhile)
        # Same grants, same pattern, same read: the same view (see the module docstring).
        key = (access.grants, pattern, tuple(Same(s) for s in statuses))
        visible, shown, totals = self._views.get(key, lambda: _view(access, statuses, pattern))
        oldest = min((s.fetched_at for s in statuses), default=time.time())
        return StatusView(visible, shown, totals, max(0.0, time.time() - oldest), pattern)

    def visible_processes(self, access: Access, fresh: bool = False) -> list[ProcessInfo]:
        processes, _ = self.fleet.processes(fresh=fresh)
        return access.visible(processes)

    def find(self, access: Access, pattern: str, action: str = "info") -> list[ProcessInfo]:
        """The visible processes `pattern` names; refuses when the role is too low."""
        _, node = names.split_node(pattern)
        # Only the nodes the pattern can be on: `info web@a` must not wait for a hung node b.
        processes, statuses = self.fleet.processes(self.fleet.nodes_for(node), fresh=True)
        return resolve(access, action, pattern, processes, statuses)

    def find_one(self, access: Access, pattern: str, action: str = "info") -> ProcessInfo:
        found = self.find(access, pattern, action)
        if len(found) > 1:
            return names.resolve_one(found, pattern)
        return found[0]

    def info(self, access: Access, pattern: str) -> ProcessDetails:
        process = self.find_one(access, pattern, "info")
        client = self.fleet.client(process.node)
        process = _with_resources(client.process(process.full_name), client.local)
        preview = self._tail(client, process.full_name, 10, "stdout").lines
        usage = self.usage(process.node, process.full_name) if self.usage else None
        sampled = process.memory_rss is None and _same_process(usage, process)
        if usage is not None and sampled:
            process = replace(process, memory_rss=usage.latest.rss, cpu_percent=usage.latest.cpu)
        restarts = self.restarts(process.node, process.full_name) if self.restarts else None
        return ProcessDetails(process, preview, client.local, usage, sampled, restarts)

    def tail(
        self, access: Access, pattern: str, lines: int = 100, stream: str = "stdout"
    ) -> LogTail:
        if lines < 1 or lines > MAX_TAIL_LINES:
            raise errors.UsageError(
                f"Line count must be between 1 and {MAX_TAIL_LINES}, got {lines}."
            )
        process = self.find_one(access, pattern, "tail")
        return self._tail(self.fleet.client(process.node), process.full_name, lines, stream)

    def grep(self, access: Access, pattern: str, ask: GrepRequest) -> LogTail:
        """The newest matching lines of one process's log (`tail --grep`), redacted."""
        if not 1 <= ask.lines <= MAX_TAIL_LINES:
            raise errors.UsageError(
                f"Line count must be between 1 and {MAX_TAIL_LINES}, got {ask.lines}."
            )
        process = self.find_one(access, pattern, "tail")
        client = self.fleet.client(process.node)
        return grep_log(client, process.full_name, ask, self.redactor, self.search_bytes)

    def _tail(self, client: NodeClient, full_name: str, lines: int, stream: str) -> LogTail:
        tail = client.tail(full_name, lines, stream)
        return replace(tail, lines=tuple(self.redactor.redact_lines(tail.lines)))

    def follower(self, process: ProcessInfo, tail: LogTail) -> FollowRedactor:
        """A follow redactor that starts where the shown `tail` ended: a last line cut in half
        waits for its end, a key block left open keeps hiding its lines."""
        follower = FollowRedactor(self.redactor)
        start = max(0, tail.offset - _SEEN_BYTES)
        text, end = self.fleet.client(process.node).read_log_from(
            process.full_name, start, tail.stream
        )
        data = text.encode()
        seen = data[: max(0, len(data) - (end - tail.offset))]  # what was written after: unseen
        follower.feed(seen.decode(errors="ignore"), time.monotonic())  # shown already: state only
        return follower

    def follow(
        self, process: ProcessInfo, offset: int, stream: str, follower: FollowRedactor
    ) -> tuple[list[str], int]:
        """The lines appended since `offset` that `follower` lets through, redacted (--follow)."""
        text, new_offset = self.fleet.client(process.node).read_log_from(
            process.full_name, offset, stream
        )
        # Text that does not start where the last piece ended (log cleared, rotated, or skipped
        # ahead past 64 KB) must not be glued to the line held from before. A few bytes of
        # slack: the read may start past a split UTF-8 character.
        gap = abs(new_offset - len(text.encode()) - offset) > 3
        shown = follower.restart() if gap else []
        return shown + follower.feed(text, time.monotonic()), new_offset

    # --- acting ------------------------------------------------------------------------

    def plan(
        self,
        access: Access,
        verb: str,
        patterns: Sequence[str],
        signal: str = "",
        confirmed: bool = False,
    ) -> ActionPlan:
        """Resolve the targets from one fresh read of the nodes `patterns` can be on, and
        decide role and confirm step. The one place a refused process action is audited."""
        node_sets = [self.fleet.nodes_for(names.split_node(p)[1]) for p in patterns]
        nodes = None if None in node_sets else {n for ns in node_sets for n in ns or ()}
        fleet_read = self.fleet.processes(nodes, fresh=True)
        try:
            return plan_action(access, verb, patterns, fleet_read, node_sets, signal, confirmed)
        except errors.Forbidden as exc:
            a = access.actor
            target = " ".join(patterns)
            self.audit.record(a.id, a.surface, verb, target, "refused", a.channel, 0.0, str(exc))
            raise

    def act(
        self,
        access: Access,
        action: str,
        pattern: str,
        signal: str = "",
        progress: Callable[[ActionOutcome], None] | None = None,
    ) -> ActionReport:
        """start/stop/restart/signal/clear every process the pattern names, without a confirm
        step (the API, and callers that confirmed already); audited."""
        plan = self.plan(access, action, [pattern], signal, confirmed=True)
        return self.carry_out(access, plan, progress)

    def carry_out(
        self,
        access: Access,
        plan: ActionPlan,
        progress: Callable[[ActionOutcome], None] | None = None,
    ) -> ActionReport:
        """Act on the plan's targets (resolved already: no fleet read here); audited."""
        started = time.monotonic()
        action, targets, a = plan.verb, plan.targets, access.actor
        # On record before supervisord is asked: no record, no action (AuditUnavailable).
        labels = [f"{p.display_name}@{p.node}" for p in targets]
        attempts = self.audit.begin(a.id, a.surface, action, labels, a.channel)
        try:
            with ThreadPoolExecutor(max_workers=min(8, len(targets))) as pool:
                outcomes = list(pool.map(lambda p: self._act_one(action, p, plan.signal), targets))
        except BaseException:  # a bug: the rows still get an outcome, the traceback a log
            for attempt in attempts:
                self.audit.finish(attempt, "failed", 0.0, "supbot failed while acting")
            raise
        for node in {p.node for p in targets}:
            self.fleet.invalidate(node)
        report = ActionReport(
            action, plan.pattern, a.id, tuple(outcomes), time.monotonic() - started
        )
        for attempt, o in zip(attempts, outcomes, strict=True):
            outcome, error = ("ok", "") if o.ok else ("failed", o.message)
            self.audit.finish(attempt, outcome, o.seconds, error)
            if progress:
                progress(o)
        return report

    def _act_one(self, action: str, process: ProcessInfo, signal: str) -> ActionOutcome:
        client = self.fleet.client(process.node)
        name = process.display_name
        started = time.monotonic()
        for hook in self.before_action:
            hook(action, process)
        try:
            if action in ("stop", "restart") and process.running:
                client.stop(process.full_name)
            if action in ("start", "restart"):
                try:
                    client.start(process.full_name, wait=True)
                except errors.AlreadyRunning:
                    # `start worker:*` with one worker already up is not a failure.
                    if action == "restart":
                        raise
            if action == "signal":
                client.signal(process.full_name, signal)
            if action == "clear":
                client.clear_log(process.full_name)
            after = client.process(process.full_name)
        except errors.NodeUnreachable as exc:
            # Report it per process (and audit it) instead of losing the other outcomes.
            return ActionOutcome(
                name,
                process.node,
                action,
                False,
                str(exc),
                process.state,
                process.pid,
                time.monotonic() - started,
            )
        except errors.SupbotError as exc:
            return self._failure(client, process, action, str(exc), started)
        seconds = time.monotonic() - started
        ok = after.state == "RUNNING" if action in ("start", "restart") else True
        if action == "start" and process.running and after.pid == process.pid:
            ok = after.running
        if action == "stop":
            ok = not after.running
        message = _describe(action, after, signal)
        if action == "start" and process.running and after.pid == process.pid:
            message = f"already {message}"
        if not ok:
            return self._failure(client, after, action, message, started)
        return ActionOutcome(
            name, process.node, action, True, message, after.state, after.pid, seconds
        )

    def _failure(
        self, client: NodeClient, process: ProcessInfo, action: str, message: str, started: float
    ) -> ActionOutcome:
        try:
            info = client.process(process.full_name)
            tail = self._tail(client, process.full_name, 20, "stderr").lines
            if not tail:
                tail = self._tail(client, process.full_name, 20, "stdout").lines
        except errors.SupbotError:
            info, tail = process, ()
        return ActionOutcome(
            process.display_name,
            process.node,
            action,
            False,
            message,
            info.state,
            info.pid,
            time.monotonic() - started,
            info.spawnerr,
            "\n".join(tail),
        )


def _describe(action: str, after: ProcessInfo, signal: str) -> str:
    if action == "signal":
        return f"sent SIG{signal} — {after.state}, pid {after.pid}"
    if action == "clear":
        return "log cleared"
    if after.state == "RUNNING":
        return f"RUNNING, pid {after.pid}"
    return after.state + (f" ({after.spawnerr})" if after.spawnerr else "")


def _with_resources(process: ProcessInfo, local: bool) -> ProcessInfo:
    """Memory and CPU from psutil when the node is on this host; absent otherwise."""
    if not local or not process.pid:
        return process
    import psutil

    try:
        proc = psutil.Process(process.pid)
        with proc.oneshot():
            rss = proc.memory_info().rss
        cpu = proc.cpu_percent(interval=0.1)
    except (psutil.Error, OSError):
        return process
    return replace(process, memory_rss=rss, cpu_percent=cpu)


def _same_process(usage: ProcessUsage | None, process: ProcessInfo) -> bool:
    """The newest sample is of this very process (not of the pid before a restart)."""
    return usage is not None and bool(process.pid) and usage.latest.pid == process.pid
