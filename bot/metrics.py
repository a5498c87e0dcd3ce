"""What `/metrics` reports, as Prometheus metric families, for one API token's view.

Read at scrape time from what the other services already keep: the fleet status (cached for
`[slack] status_cache_ttl`), psutil for processes on this host, the alerts' incidents and
outbox, the jobs' runs, and this process's count of failed Slack calls
(bot/slack/api_errors.py). Nothing is stored for metrics. `prometheus_client` is imported
here only, when a scrape comes, so the rest of supbot runs without it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from bot.auth import Access
from bot.domain import NodeStatus, ProcessInfo
from bot.storage.alerts.store import AlertStore

if TYPE_CHECKING:
    from bot.services import Services

log = logging.getLogger("supbot.metrics")

STATES = ("STOPPED", "STARTING", "RUNNING", "BACKOFF", "STOPPING", "EXITED", "FATAL", "UNKNOWN")
JOB_RESULTS = ("running", "ok", "failed", "missed", "interrupted")
_PROCESS = ("node", "group", "name")


def render(services: Services, access: Access) -> tuple[bytes, str]:
    """The exposition text and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
    from prometheus_client.registry import CollectorRegistry

    registry = CollectorRegistry(auto_describe=False)  # one per scrape: no global state
    registry.register(_Collector(services, access))  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST


class _Collector:
    def __init__(self, services: Services, access: Access) -> None:
        self.services, self.access = services, access

    def collect(self) -> Iterator[Any]:
        statuses = self.services.fleet.status()
        visible = self.access.visible(p for s in statuses for p in s.processes)
        yield from fleet_families(statuses, visible)
        yield from state_families(self.services, self.access, visible)
        yield slack_family()


def slack_family() -> Any:
    from prometheus_client.core import CounterMetricFamily

    from bot.slack import api_errors

    errors = CounterMetricFamily(
        "supbot_slack_api_errors",
        "Slack Web API calls that failed, by method and Slack's error (or the transport "
        "error), counted by this process since it started",
        labels=["method", "error"],
    )
    for (method, error), n in sorted(api_errors.counts().items()):
        errors.add_metric([method, error], float(n))
    return errors


def fleet_families(statuses: list[NodeStatus], visible: list[ProcessInfo]) -> Iterator[Any]:
    from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

    seen_nodes = {p.node for p in visible}
    up = GaugeMetricFamily("supbot_node_up", "1 when supbot reaches the node", labels=["node"])
    for s in statuses:
        if s.node in seen_nodes or s.error:
            up.add_metric([s.node], 0.0 if s.error else 1.0)
    yield up
    state = GaugeMetricFamily(
        "supbot_process_state", "1 for the state the process is in", labels=[*_PROCESS, "state"]
    )
    start = GaugeMetricFamily(
        "supbot_process_start_time_seconds",
        "When the process last started (unix time): changes() over a window counts restarts",
        labels=list(_PROCESS),
    )
    uptime = GaugeMetricFamily(
        "supbot_process_uptime_seconds",
        "Seconds since a RUNNING process started",
        labels=list(_PROCESS),
    )
    for p in visible:
        key = [p.node, p.group, p.name]
        for word in STATES:
            state.add_metric([*key, word], 1.0 if p.state == word else 0.0)
        if p.start:
            start.add_metric(key, float(p.start))
        if p.uptime is not None:
            uptime.add_metric(key, float(p.uptime))
    yield from (state, start, uptime)
    rss = GaugeMetricFamily(
        "supbot_process_resident_memory_bytes",
        "RSS of the process (not its children); processes on supbot's host only",
        labels=list(_PROCESS),
    )
    cpu = CounterMetricFamily(
        "supbot_process_cpu_seconds",
        "User + system CPU time of the process; processes on supbot's host only",
        labels=list(_PROCESS),
    )
    local = {s.node for s in statuses if s.local}
    for p, (memory, seconds) in _resources(p for p in visible if p.node in local and p.pid):
        rss.add_metric([p.node, p.group, p.name], float(memory))
        cpu.add_metric([p.node, p.group, p.name], seconds)
    yield from (rss, cpu)


def _resources(processes: Iterable[ProcessInfo]) -> Iterator[tuple[ProcessInfo, tuple[int, float]]]:
    """(process, (rss, cpu seconds)) from psutil, without `info`'s 0.1 s CPU sampling."""
    import psutil

    for p in processes:
        try:
            proc = psutil.Process(p.pid)
            with proc.oneshot():
                rss, times = proc.memory_info().rss, proc.cpu_times()
        except (psutil.Error, OSError):
            continue  # exited since the status read
        yield p, (rss, times.user + times.system)


def state_families(services: Services, access: Access, visible: list[ProcessInfo]) -> Iterator[Any]:
    """Incidents, the outbox and jobs, from the state database; `supbot_state_up` 0 (and the
    reason logged) when it cannot be read, instead of a failed scrape."""
    from prometheus_client.core import GaugeMetricFamily

    families: list[Any] = []
    try:
        families = [*_alert_families(services, visible), *_job_families(services, access)]
        ok = 1.0
    except Exception as exc:  # any storage failure (SQLite or PostgreSQL): shown as a metric
        log.warning("metrics: cannot read the state database: %s", exc)
        ok = 0.0
    up = GaugeMetricFamily("supbot_state_up", "1 when the state database could be read")
    up.add_metric([], ok)
    yield up
    yield from families


def _alert_families(services: Services, visible: list[ProcessInfo]) -> list[Any]:
    from prometheus_client.core import GaugeMetricFamily

    alerts = AlertStore(services.store)
    seen = {(p.node, p.full_name) for p in visible}
    nodes = {p.node for p in visible}
    opened = GaugeMetricFamily(
        "supbot_incidents_open", "Open incidents (crashes, nodes down)", labels=["kind"]
    )
    counts: dict[str, int] = {"process": 0, "node": 0, "listener": 0}
    for i in alerts.open_incidents():
        shown = (i.node, i.process) in seen if i.kind == "process" else i.node in nodes
        counts[i.kind] = counts.get(i.kind, 0) + (1 if shown else 0)
    for kind, n in counts.items():
        opened.add_metric([kind], float(n))
    backlog = GaugeMetricFamily(
        "supbot_alerts_outbox_pending", "Alert messages waiting to be sent to Slack"
    )
    backlog.add_metric([], float(alerts.backlog()))
    events = GaugeMetricFamily(
        "supbot_alerts_events_pending", "Process events recorded but not yet turned into alerts"
    )
    events.add_metric([], float(alerts.pending_events()))
    return [opened, backlog, events]


def _job_families(services: Services, access: Access) -> list[Any]:
    from prometheus_client.core import GaugeMetricFamily

    history = services.jobs.runs
    names = [j.name for j in services.jobs.visible(access)]
    last = GaugeMetricFamily(
        "supbot_job_last_run_result",
        "1 for the result of the job's last run",
        labels=["job", "result"],
    )
    duration = GaugeMetricFamily(
        "supbot_job_last_run_duration_seconds",
        "How long the job's last finished run took",
        labels=["job"],
    )
    started = GaugeMetricFamily(
        "supbot_job_last_run_start_time_seconds", "When the job's last run started", labels=["job"]
    )
    for name in names:
        run = history.last(name)
        if run is None:
            continue
        for result in JOB_RESULTS:
            last.add_metric([name, result], 1.0 if run.status == result else 0.0)
        started.add_metric([name], run.started)
        if run.duration is not None:
            duration.add_metric([name], run.duration)
    problems = GaugeMetricFamily(
        "supbot_job_problem_runs",
        "Failed, missed and interrupted runs still kept in the state (storage retention)",
        labels=["job", "result"],
    )
    wanted = set(names)
    for job, status, n in history.problem_counts(0.0, time.time()):
        if job in wanted:
            problems.add_metric([job, status], float(n))
    return [last, duration, started, problems, *_run_totals(history.result_totals(), wanted)]


def _run_totals(totals: list[tuple[str, str, int, float]], wanted: set[str]) -> list[Any]:
    """Finished runs by result (`ok` too) and the seconds they took; gauges, not counters:
    the storage retention prunes old runs, so the figures can go down."""
    from prometheus_client.core import GaugeMetricFamily

    runs = GaugeMetricFamily(
        "supbot_job_runs",
        "Finished runs kept in the state (storage retention), by result",
        labels=["job", "result"],
    )
    took = GaugeMetricFamily(
        "supbot_job_runs_duration_seconds",
        "Seconds the finished runs kept in the state took in all, by result (÷ supbot_job_runs "
        "for the mean)",
        labels=["job", "result"],
    )
    for job, status, n, seconds in totals:
        if job in wanted:
            runs.add_metric([job, status], float(n))
            took.add_metric([job, status], seconds)
    return [runs, took]
