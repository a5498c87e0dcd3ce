"""ProcessService against a real supervisord: what each surface shows and does, audited."""

from __future__ import annotations

import json
import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import errors
from bot.auth import Access
from bot.embedded import EmbeddedSupervisor
from bot.processes import ProcessService
from bot.render.blocks import render_blocks
from bot.render.text import render_text
from bot.replies import StatusReply
from bot.services import Services
from bot.supervisor.client import NodeClient
from tests.conftest import (
    PROGRAMS,
    PY,
    basic_toml,
    make_settings,
    short_tmp,
    start_sample,
    wait_until,
)

EXTRA = f"""
[program:leaky]
command={PY} -u -c "print('connecting with password=hunter2 to db', flush=True); import time; time.sleep(100000)"
startsecs=0
"""


@pytest.fixture(scope="module")
def sv() -> Iterator[EmbeddedSupervisor]:
    sup = start_sample(PROGRAMS + EXTRA, running=4)
    yield sup
    sup.stop()


@pytest.fixture(scope="module")
def services(
    sv: EmbeddedSupervisor, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    svc = Services.build(make_settings(tmp_path_factory.mktemp("cfg"), basic_toml(sv)))
    yield svc
    svc.close()


@pytest.fixture
def procs(services: Services) -> ProcessService:
    return services.processes


def access(services: Services, user: str = "U0OPER", channel: str = "C0OPS") -> Access:
    return services.authorizer.for_channel(user, channel, "slash")


def client(services: Services) -> NodeClient:
    return services.fleet.client("local")


# --- status and info -----------------------------------------------------------------------


def test_status_lists_visible_processes(services: Services) -> None:
    view = services.processes.status(access(services), fresh=True)
    names = {p.display_name for p in view.processes}
    assert {"web", "worker:worker_00", "worker:worker_01", "broken", "idle"} <= names
    assert [(n.node, n.error) for n in view.nodes] == [("local", None)]
    assert view.totals.total == len(view.processes)
    assert view.totals.running >= 4


@pytest.fixture
def with_down_node(sv: EmbeddedSupervisor, tmp_path: Path) -> Iterator[Services]:
    extra = '[[nodes]]\nname = "gone"\nurl = "unix:///nonexistent/s.sock"\ntimeout = "1s"\n'
    svc = Services.build(make_settings(tmp_path, basic_toml(sv, extra)))
    yield svc
    svc.close()


def test_status_shows_the_down_node_next_to_the_live_one(with_down_node: Services) -> None:
    view = with_down_node.processes.status(access(with_down_node), fresh=True)
    nodes = {n.node: n.error for n in view.nodes}
    assert nodes["local"] is None
    assert nodes["gone"] == ("socket /nonexistent/s.sock not found — is supervisord running?")
    assert {p.node for p in view.processes} == {"local"}


def test_name_on_a_down_node_says_the_node_is_down(with_down_node: Services) -> None:
    with pytest.raises(errors.NodeUnreachable, match="node `gone` unreachable"):
        with_down_node.processes.info(access(with_down_node), "web@gone")
    # a name found nowhere may be on the node that did not answer: say so
    with pytest.raises(errors.NodeUnreachable, match="node `gone` unreachable"):
        with_down_node.processes.act(access(with_down_node), "restart", "nothing")
    # a name found on a live node works while the other node is down
    assert with_down_node.processes.act(access(with_down_node), "restart", "worker:worker_00").ok


HUNG_PROGRAMS = f"""
[program:api]
command={PY} -c "import time; time.sleep(100000)"
startsecs=0
"""


@pytest.fixture
def with_hung_node(sv: EmbeddedSupervisor, tmp_path: Path) -> Iterator[Services]:
    """A second real supervisord, SIGSTOPped: it accepts connections and never answers."""
    hung = EmbeddedSupervisor(short_tmp() / "hung", HUNG_PROGRAMS).start()
    assert hung.process is not None
    extra = f'[[nodes]]\nname = "hung"\nurl = "{hung.url}"\ntimeout = "5s"\n'
    svc = Services.build(make_settings(tmp_path, basic_toml(sv, extra)))
    os.kill(hung.process.pid, signal.SIGSTOP)
    try:
        yield svc
    finally:
        os.kill(hung.process.pid, signal.SIGCONT)
        svc.close()
        hung.stop()


def test_a_hung_node_does_not_delay_answers_about_another_node(
    with_hung_node: Services,
) -> None:
    svc, who = with_hung_node, access(with_hung_node)
    # The hung node's timeout is 5 s: an answer within 2 s means it was not asked at all.
    for ask in (
        lambda: svc.processes.info(who, "web@local"),
        lambda: svc.processes.tail(who, "web@local", 5),
        lambda: svc.processes.status(who, "web@local", fresh=True),
        lambda: svc.processes.act(who, "signal", "idle@local", "HUP"),
    ):
        started = time.monotonic()
        ask()
        assert time.monotonic() - started < 2.0
    assert svc.processes.info(who, "web@local").process.node == "local"
    # Without @node every node is asked: the hung one costs its timeout once, no more, and
    # the healthy node's process is still the answer.
    started = time.monotonic()
    assert svc.processes.info(who, "worker:worker_00").process.node == "local"
    assert time.monotonic() - started < 5.0 + 2.5
    with pytest.raises(errors.NodeUnreachable, match=r"node `hung` unreachable \(no answer"):
        svc.processes.info(who, "api@hung")


def test_status_in_a_narrow_channel_shows_only_its_programs(services: Services) -> None:
    view = services.processes.status(access(services, "U0ANY", "C0WEB"), fresh=True)
    assert [p.display_name for p in view.processes] == ["web"]


def test_status_by_pattern_and_node(services: Services) -> None:
    view = services.processes.status(access(services), "worker:*")
    assert [p.display_name for p in view.processes] == ["worker:worker_00", "worker:worker_01"]
    view = services.processes.status(access(services), "worker@local")
    assert len(view.processes) == 2 and [n.node for n in view.nodes] == ["local"]
    with pytest.raises(errors.UsageError, match=r"Unknown node `mars`; nodes: local\."):
        services.processes.status(access(services), "@mars")
    assert len(services.processes.status(access(services), "worker:*@l*").processes) == 2


def test_unknown_name_suggests_only_what_the_channel_may_see(services: Services) -> None:
    with pytest.raises(errors.NoSuchProcess) as exc:
        services.processes.status(access(services), "wrker")
    assert "Did you mean: worker" in str(exc.value)
    with pytest.raises(errors.NoSuchProcess) as exc:
        services.processes.status(access(services, "U0ANY", "C0WEB"), "wrker")
    assert "worker" not in str(exc.value)


def test_info_has_resources_and_a_log_preview(services: Services) -> None:
    details = services.processes.info(access(services), "web")
    p = details.process
    assert p.state == "RUNNING" and details.local
    assert p.memory_rss and p.memory_rss > 1_000_000
    assert p.cpu_percent is not None
    assert details.log_preview and all("web line" in line for line in details.log_preview)


def test_info_on_a_group_asks_which_process(services: Services) -> None:
    with pytest.raises(errors.AmbiguousName, match="`worker` matches 2 processes"):
        services.processes.info(access(services), "worker")


# --- tail ----------------------------------------------------------------------------------


def test_tail_gives_n_lines_from_either_stream(procs: ProcessService, services: Services) -> None:
    wait_until(lambda: len(client(services).tail("web:web", 5, "stderr").lines) >= 5, 10)
    out = procs.tail(access(services), "web", 5)
    err = procs.tail(access(services), "web", 5, "stderr")
    assert len(out.lines) == 5 and all(line.startswith("web line") for line in out.lines)
    assert len(err.lines) == 5 and all(line.startswith("web err") for line in err.lines)


@pytest.mark.parametrize("lines", [0, -5, 1001, 10**12])
def test_line_counts_out_of_range_are_refused_plainly(
    procs: ProcessService, services: Services, lines: int
) -> None:
    with pytest.raises(errors.UsageError) as exc:
        procs.tail(access(services), "web", lines)
    assert str(exc.value) == f"Line count must be between 1 and 1000, got {lines}."


def test_tail_of_1000_lines_is_allowed(procs: ProcessService, services: Services) -> None:
    tail = procs.tail(access(services), "web", 1000)
    assert 0 < len(tail.lines) <= 1000 and tail.requested == 1000


def test_tail_is_redacted(procs: ProcessService, services: Services) -> None:
    tail = procs.tail(access(services), "leaky", 5)
    assert tail.lines and "hunter2" not in "\n".join(tail.lines)
    assert "password=" in tail.lines[0]


# --- actions -------------------------------------------------------------------------------


def test_restart_reports_a_new_pid_running_past_startsecs(
    procs: ProcessService, services: Services
) -> None:
    before = client(services).process("web:web")
    report = procs.act(access(services), "restart", "web")
    (outcome,) = report.outcomes
    assert report.ok and outcome.ok and outcome.state == "RUNNING"
    assert outcome.pid and outcome.pid != before.pid
    assert outcome.seconds >= before.startsecs  # startProcess waited out startsecs
    assert outcome.message == f"RUNNING, pid {outcome.pid}"
    after = client(services).process("web:web")
    assert after.pid == outcome.pid and after.state == "RUNNING"


def test_group_restart_reports_each_process(procs: ProcessService, services: Services) -> None:
    before = {p.name: p.pid for p in client(services).all_processes() if p.group == "worker"}
    report = procs.act(access(services), "restart", "worker")
    got = {o.process: o for o in report.outcomes}
    assert set(got) == {"worker:worker_00", "worker:worker_01"}
    for name, outcome in got.items():
        assert outcome.ok and outcome.state == "RUNNING"
        assert outcome.pid != before[name.split(":")[1]]


def test_glob_stop_then_start_reports_each_process(
    procs: ProcessService, services: Services
) -> None:
    stopped = procs.act(access(services), "stop", "worker:*")
    assert stopped.ok and [o.state for o in stopped.outcomes] == ["STOPPED", "STOPPED"]
    started = procs.act(access(services), "start", "worker:*")
    assert started.ok and [o.state for o in started.outcomes] == ["RUNNING", "RUNNING"]


def test_mixed_outcomes_report_the_failure_with_its_log(
    procs: ProcessService, services: Services
) -> None:
    report = procs.act(access(services), "start", "[bi]*")  # broken fails, idle starts
    got = {o.process: o for o in report.outcomes}
    assert not report.ok
    assert got["idle"].ok and got["idle"].state == "RUNNING"
    broken = got["broken"]
    assert not broken.ok and broken.state in ("FATAL", "BACKOFF")
    assert "failed to start" in broken.message
    assert "Exited too quickly" in broken.spawnerr
    assert "boom: cannot connect to db" in broken.log_tail
    stop = procs.act(access(services), "stop", "idle")
    assert stop.ok and stop.outcomes[0].state == "STOPPED"


def test_stop_of_a_stopped_process_is_ok(procs: ProcessService, services: Services) -> None:
    report = procs.act(access(services), "stop", "idle")
    assert report.ok and report.outcomes[0].state == "STOPPED"


def test_signal_reports_the_signal_sent_and_refuses_an_unknown_one(
    procs: ProcessService, services: Services
) -> None:
    report = procs.act(access(services), "signal", "worker:worker_00", "sighup")
    (o,) = report.outcomes
    assert o.ok and o.message.startswith("sent SIGHUP")
    bad = procs.act(access(services), "signal", "worker:worker_00", "NOPE")
    assert not bad.ok
    assert "`NOPE` is not a signal supervisord knows" in bad.outcomes[0].message
    with pytest.raises(errors.UsageError, match="Name a signal"):
        procs.act(access(services), "signal", "worker:worker_00", "")


def test_clear_empties_the_log(procs: ProcessService, services: Services) -> None:
    report = procs.act(access(services), "clear", "leaky")
    assert report.ok and report.outcomes[0].message == "log cleared"
    assert procs.tail(access(services), "leaky", 10).lines == ()


def test_viewer_may_not_act_and_the_refusal_is_audited(
    procs: ProcessService, services: Services
) -> None:
    viewer = access(services, "U0VIEWER")
    with pytest.raises(errors.Forbidden) as exc:
        procs.act(viewer, "restart", "web")
    assert str(exc.value) == (
        "You may not restart `web` here: it needs the operator role in this channel's binding."
    )
    last = services.audit.since(60)[-1]
    assert (last.actor, last.action, last.target, last.outcome) == (
        "U0VIEWER",
        "restart",
        "web",
        "refused",
    )
    with pytest.raises(errors.NoSuchProcess):
        procs.act(access(services, "U0WEBOP", "C0WEB"), "restart", "worker")


def test_actions_are_audited_per_process(procs: ProcessService, services: Services) -> None:
    procs.act(access(services), "restart", "worker:worker_01")
    last = services.audit.since(60)[-1]
    assert (last.actor, last.surface, last.channel) == ("U0OPER", "slash", "C0OPS")
    assert (last.action, last.target, last.outcome) == ("restart", "worker:worker_01@local", "ok")
    assert last.duration > 0


def test_action_on_nothing_names_the_closest(procs: ProcessService, services: Services) -> None:
    with pytest.raises(errors.NoSuchProcess, match="Did you mean: web"):
        procs.act(access(services), "restart", "wbe")


def test_action_invalidates_the_status_cache(procs: ProcessService, services: Services) -> None:
    services.processes.status(access(services))  # warm the cache
    procs.act(access(services), "start", "idle")
    view = services.processes.status(access(services), "idle")
    assert view.processes[0].state == "RUNNING"
    procs.act(access(services), "stop", "idle")
    assert services.processes.status(access(services), "idle").processes[0].state == "STOPPED"


def test_status_does_not_fail_because_of_the_down_node(tmp_path: Path) -> None:
    # the configured-but-down node alone: status answers with the error, not an exception
    toml = '[storage]\ndir = "s"\n[[nodes]]\nname = "gone"\nurl = "unix:///nonexistent/x.sock"\n'
    svc = Services.build(make_settings(tmp_path, toml))
    try:
        view = svc.processes.status(svc.authorizer.local_admin("me"), fresh=True)
        assert view.processes == () and view.nodes[0].error
    finally:
        svc.close()


def test_start_of_a_group_with_one_process_already_up_is_not_a_failure(services) -> None:
    from bot.auth import Authorizer

    access = Authorizer.local_admin("tester")
    services.processes.act(access, "stop", "worker:worker_01")
    report = services.processes.act(access, "start", "worker")
    by_name = {o.process: o for o in report.outcomes}
    assert report.ok
    assert by_name["worker:worker_00"].message.startswith("already RUNNING")
    assert by_name["worker:worker_01"].state == "RUNNING"


def test_status_says_when_the_state_database_cannot_record(services: Services) -> None:
    store = services.store
    with store.connect() as db:  # a real SQLITE_FULL without filling the disk
        pages = db.exec_driver_sql("PRAGMA page_count").scalar_one()
        db.exec_driver_sql(f"PRAGMA max_page_count={pages}")
    with pytest.raises(errors.StateUnavailable):
        for i in range(1000):
            services.audit.record("U1", "slash", "restart", f"web-{i}" + "x" * 500, "ok")
    viewer = services.authorizer.for_channel("U0OPER", "C0OPS", "slash")
    reply = services.dispatcher.run_text(viewer, "status")
    assert isinstance(reply, StatusReply)
    assert f"! state database {store.path} is full" in render_text(reply)
    slack = json.dumps([b.to_dict() for b in render_blocks(reply)])
    assert "is full" in slack and "crashes are not alerted" in slack
    with store.connect() as db:
        db.exec_driver_sql("PRAGMA max_page_count=1000000")  # space again
    services.audit.record("U1", "slash", "restart", "web", "ok")
    reply = services.dispatcher.run_text(viewer, "status")
    assert "state database" not in render_text(reply)
