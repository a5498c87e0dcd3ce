"""NodeClient and Fleet against a real supervisord: operations, Faults, transports, failures."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest

from bot import errors
from bot.asked import asking
from bot.config import NodeSettings
from bot.domain import NodeStatus, ProcessInfo
from bot.embedded import EmbeddedSupervisor
from bot.supervisor.client import NodeClient, wait_for_state
from bot.supervisor.faults import NO_RPCINTERFACE
from bot.supervisor.fleet import Fleet
from tests.conftest import PROGRAMS, PY, free_port, short_tmp, start_sample, wait_until

# Lines dense with 2-, 3- and 4-byte UTF-8 characters.
UTF8_LINE = "é€😀" * 10
UTF8_PROGRAMS = f"""
[program:utf8]
command={PY} -u -c "[print('%%02d ' %% i + '{UTF8_LINE}', flush=True) for i in range(8)]; import time; time.sleep(100000)"
startsecs=0

[program:utf8long]
command={PY} -u -c "[print('%%02d ' %% i + '{UTF8_LINE * 6}', flush=True) for i in range(60)]; import time; time.sleep(100000)"
startsecs=0

[program:exit0]
command={PY} -c "import sys; sys.exit(0)"
startsecs=0
autostart=false
autorestart=false

[program:exit3]
command={PY} -c "import sys; sys.exit(3)"
startsecs=0
autostart=false
autorestart=false

[program:stubborn]
command={PY} -c "import signal, time; signal.signal(signal.SIGTERM, lambda *a: None); time.sleep(100000)"
startsecs=2
stopwaitsecs=2
autostart=false

[program:nolog]
command={PY} -c "import time; time.sleep(100000)"
stdout_logfile=NONE
redirect_stderr=true
startsecs=0
autostart=false
"""


@pytest.fixture(scope="module")
def sv() -> Iterator[EmbeddedSupervisor]:
    """One supervisord for the read-mostly tests of this module (tests restore what they change)."""
    sup = start_sample(PROGRAMS + UTF8_PROGRAMS, running=5, http=True)
    yield sup
    sup.stop()


@pytest.fixture
def client(sv: EmbeddedSupervisor) -> NodeClient:
    return NodeClient(sv.node())


def by_name(processes: tuple[ProcessInfo, ...]) -> dict[str, ProcessInfo]:
    return {p.display_name: p for p in processes}


# --- reading -------------------------------------------------------------------------------


def test_all_processes_are_typed_with_display_names_and_config(client: NodeClient) -> None:
    procs = by_name(client.all_processes())
    assert {"web", "worker:worker_00", "worker:worker_01", "broken", "idle", "utf8"} <= set(procs)
    web = procs["web"]
    assert (web.node, web.group, web.name, web.state) == ("local", "web", "web", "RUNNING")
    assert web.pid > 0 and web.uptime is not None and web.uptime >= 0
    assert "web line" in web.command and web.startsecs == 1
    assert procs["worker:worker_00"].full_name == "worker:worker_00"
    assert procs["idle"].state == "STOPPED" and procs["idle"].pid == 0
    assert procs["idle"].uptime is None and procs["idle"].bucket == "stopped"


def test_process_info_for_one_process(client: NodeClient) -> None:
    info = client.process("worker:worker_01")
    assert (info.group, info.name, info.state) == ("worker", "worker_01", "RUNNING")
    assert info.description.startswith(f"pid {info.pid}")


def test_unix_and_http_nodes_report_the_same_processes(sv: EmbeddedSupervisor) -> None:
    unix = {p.full_name: p.pid for p in NodeClient(sv.node()).all_processes()}
    http = {p.full_name: p.pid for p in NodeClient(sv.http_node()).all_processes()}
    assert unix == http
    assert NodeClient(sv.http_node()).local and NodeClient(sv.node()).local
    remote = NodeClient(NodeSettings("far", "http://10.1.2.3:9001"))
    assert not remote.local


def test_exit_is_expected_or_not_per_exitcodes(client: NodeClient) -> None:
    for name, status, expected in (("exit0:exit0", 0, True), ("exit3:exit3", 3, False)):
        client.start(name)
        after = wait_for_state(client, name, lambda p: p.state == "EXITED", 5)
        assert (after.state, after.exitstatus, after.expected_exit) == ("EXITED", status, expected)
        assert after.crashed is not expected
        assert after.bucket == ("stopped" if expected else "crashed")


# --- acting and Faults ---------------------------------------------------------------------


def test_start_stop_and_the_faults_of_each(client: NodeClient) -> None:
    client.start("idle:idle")
    running = client.process("idle:idle")
    assert running.state == "RUNNING" and running.pid > 0
    with pytest.raises(errors.AlreadyRunning, match=r"`idle:idle` is already running\."):
        client.start("idle:idle")  # ALREADY_STARTED
    client.stop("idle:idle")
    assert client.process("idle:idle").state == "STOPPED"
    with pytest.raises(errors.NotRunning, match=r"`idle:idle` is not running\."):
        client.stop("idle:idle")  # NOT_RUNNING


def test_unknown_process_is_bad_name(client: NodeClient) -> None:
    with pytest.raises(errors.NoSuchProcess, match="No process matches `nope:nope`"):
        client.process("nope:nope")
    with pytest.raises(errors.NoSuchProcess):
        client.start("nope:nope")


def test_program_that_dies_at_once_is_a_spawn_error(client: NodeClient) -> None:
    started = time.monotonic()
    with pytest.raises(errors.SpawnFailed) as exc:
        client.start("broken:broken")
    assert time.monotonic() - started < 5
    assert str(exc.value) == (
        "`broken:broken` failed to start: it exited or could not be spawned before startsecs."
    )
    info = client.process("broken:broken")
    assert info.state == "FATAL" and info.crashed
    assert "Exited too quickly" in info.spawnerr
    tail = client.tail("broken:broken", 5, "stderr")
    assert tail.lines == ("boom: cannot connect to db",)


def test_signal_is_delivered_and_a_bad_signal_is_refused(client: NodeClient) -> None:
    before = client.process("idle:idle")
    client.start("idle:idle")
    try:
        pid = client.process("idle:idle").pid
        # With startsecs=0 the child may not have exec'd yet; until then it carries
        # supervisord's own TERM handler and a TERM is swallowed. Wait for the real program.
        wait_until(lambda: "time.sleep" in " ".join(psutil.Process(pid).cmdline()), 5)
        with pytest.raises(errors.BadSignal, match="`NOPE` is not a signal supervisord knows"):
            client.signal("idle:idle", "NOPE")  # BAD_SIGNAL
        client.signal("idle:idle", "TERM")
        # killed by a signal is an unexpected exit: supervisord restarts it (autorestart)
        after = wait_for_state(client, "idle:idle", lambda p: p.pid not in (0, pid), 5)
        assert after.pid not in (0, pid) and after.running
    finally:
        if client.process("idle:idle").running:
            client.stop("idle:idle")
    assert before.state == "STOPPED"


def test_signal_to_a_stopped_process_is_not_running(client: NodeClient) -> None:
    with pytest.raises(errors.NotRunning):
        client.signal("idle:idle", "HUP")


def test_missing_log_file_is_no_file(client: NodeClient) -> None:
    with pytest.raises(errors.NoLogFile, match="has no log file"):
        client.call("readProcessStdoutLog", "nolog:nolog", -100, 0, target="nolog:nolog")
    assert client.tail("nolog:nolog", 10).lines == ()
    assert client.tail("nolog:nolog", 10, "stderr").lines == ()


# --- logs ----------------------------------------------------------------------------------


def test_tail_stdout_and_stderr_with_n_lines(client: NodeClient) -> None:
    wait_until(lambda: len(client.tail("web:web", 12).lines) >= 12, 10)
    out = client.tail("web:web", 12)
    err = client.tail("web:web", 3, "stderr")
    assert len(out.lines) == 12 and all("web line" in line for line in out.lines)
    numbers = [int(line.split()[2]) for line in out.lines]
    assert numbers == list(range(numbers[0], numbers[0] + 12))  # consecutive, none cut
    assert all(line.endswith("café €") for line in out.lines)
    assert len(err.lines) == 3 and all(line.startswith("web err") for line in err.lines)
    assert (out.stream, err.stream, out.requested) == ("stdout", "stderr", 12)


def test_tail_grows_its_window_for_long_lines(client: NodeClient) -> None:
    # each line is ~550 bytes: 40 lines need more than the first window of 40*160 bytes
    tail = client.tail("utf8long:utf8long", 40)
    assert [line[:2] for line in tail.lines] == [f"{i:02d}" for i in range(20, 60)]
    assert all(line.endswith(UTF8_LINE * 6) for line in tail.lines)


def test_tail_of_every_line_count_keeps_multibyte_text_intact(client: NodeClient) -> None:
    expected = [f"{i:02d} {UTF8_LINE * 6}" for i in range(60)]
    for n in range(1, 61):
        assert list(client.tail("utf8long:utf8long", n).lines) == expected[-n:], n


def test_window_starting_inside_a_character_is_http_500_from_supervisord(
    client: NodeClient,
) -> None:
    # The problem handled below: the last 2 bytes of "😀\n" start inside the emoji.
    with pytest.raises(errors.NodeUnreachable, match="HTTP 500"):
        client.call("tailProcessStdoutLog", "utf8:utf8", 0, 3)


def test_tail_windows_of_every_size_start_at_every_byte_offset(client: NodeClient) -> None:
    full = "".join(f"{i:02d} {UTF8_LINE}\n" for i in range(8))
    size = len(full.encode())
    assert client.call("tailProcessStdoutLog", "utf8:utf8", 0, 0)[1] == size
    for length in range(1, size + 1):
        # private on purpose: only the raw window reaches every byte offset
        text, offset, overflow = client._tail_window("tailProcessStdoutLog", "utf8:utf8", length)
        assert offset == size and overflow == (length < size)
        assert full.endswith(text), length
        assert len(text.encode()) >= length - 3, length  # at most one character dropped


def test_follow_from_every_byte_offset_returns_the_rest_intact(client: NodeClient) -> None:
    full = "".join(f"{i:02d} {UTF8_LINE}\n" for i in range(8)).encode()
    for offset in range(len(full) + 1):
        text, new_offset = client.read_log_from("utf8:utf8", offset)
        assert new_offset == len(full), offset
        rest = full[offset:].decode("utf-8", errors="ignore")
        # a window starting inside a character drops that character only
        assert rest.endswith(text) and len(rest) - len(text) <= 1, offset


def test_clear_log_empties_the_log(client: NodeClient) -> None:
    client.clear_log("utf8:utf8")
    assert client.tail("utf8:utf8", 10).lines == ()
    assert client.call("tailProcessStdoutLog", "utf8:utf8", 0, 0)[1] == 0


def test_start_and_stop_may_take_longer_than_the_node_timeout(sv: EmbeddedSupervisor) -> None:
    # startsecs=2 and a process that ignores SIGTERM (stopwaitsecs=2): each call waits ~2s,
    # more than the 1s node timeout; supervisord is answering, not unreachable.
    slow = NodeClient(sv.node(timeout=1))
    slow.start("stubborn:stubborn")
    assert slow.process("stubborn:stubborn").state == "RUNNING"
    slow.stop("stubborn:stubborn")
    assert slow.process("stubborn:stubborn").state == "STOPPED"


# --- transports and failures ---------------------------------------------------------------


def test_http_node_with_basic_auth(sv: EmbeddedSupervisor) -> None:
    client = NodeClient(sv.http_node())
    assert client.process("web:web").state == "RUNNING"
    assert client.tail("web:web", 2).lines


def test_wrong_password_is_said_plainly(sv: EmbeddedSupervisor) -> None:
    node = NodeSettings("http", f"http://127.0.0.1:{sv.http_port}", "ops", "wrong", 3)
    with pytest.raises(errors.NodeMisconfigured) as exc:
        NodeClient(node).all_processes()
    assert str(exc.value) == (
        "node `http`: wrong username or password (check username and password_env)"
    )
    no_auth = NodeSettings("http", f"http://127.0.0.1:{sv.http_port}", None, None, 3)
    with pytest.raises(errors.NodeMisconfigured, match="wrong username or password"):
        NodeClient(no_auth).all_processes()


def test_wrong_path_on_http_node_says_no_endpoint(sv: EmbeddedSupervisor) -> None:
    node = NodeSettings("http", f"http://127.0.0.1:{sv.http_port}/nope", "ops", "secret", 3)
    with pytest.raises(errors.NodeMisconfigured, match="no XML-RPC endpoint"):
        NodeClient(node).all_processes()


def test_https_node_gives_up_within_its_timeout_too(sv: EmbeddedSupervisor) -> None:
    # supervisord's plain HTTP port waits for a request line the TLS handshake never sends
    node = NodeSettings("tls", f"https://127.0.0.1:{sv.http_port}", "ops", "secret", 1)
    started = time.monotonic()
    with pytest.raises(errors.NodeUnreachable) as exc:
        NodeClient(node).all_processes()
    assert time.monotonic() - started < 1 + 1.0
    assert str(exc.value) == "node `tls` unreachable (no answer within 1s)"


def test_missing_socket_says_so(tmp_path: Path) -> None:
    node = NodeSettings("gone", f"unix://{tmp_path}/none.sock", timeout=2)
    with pytest.raises(errors.NodeUnreachable) as exc:
        NodeClient(node).all_processes()
    assert str(exc.value) == (
        f"node `gone` unreachable (socket {tmp_path}/none.sock not found — is supervisord running?)"
    )
    assert exc.value.exit_code == 3


def test_refused_tcp_connection_says_so() -> None:
    node = NodeSettings("down", f"http://127.0.0.1:{free_port()}", timeout=2)
    with pytest.raises(errors.NodeUnreachable, match=r"\(connection refused\)"):
        NodeClient(node).all_processes()


@pytest.mark.skipif(os.geteuid() == 0, reason="root bypasses file permissions on the socket")
def test_socket_without_permission_says_which_user_may(sv: EmbeddedSupervisor) -> None:
    locked = sv.root / "locked"
    locked.mkdir(exist_ok=True)
    link = locked / "s.sock"
    if not link.exists():
        link.symlink_to(sv.socket)
    locked.chmod(0)
    try:
        with pytest.raises(errors.NodeUnreachable, match="permission denied on"):
            NodeClient(NodeSettings("x", f"unix://{link}", timeout=2)).all_processes()
    finally:
        locked.chmod(0o700)


@pytest.fixture
def hung_port() -> Iterator[int]:
    """A TCP socket that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    yield server.getsockname()[1]
    server.close()


def test_hung_node_gives_no_answer_within_its_timeout(hung_port: int) -> None:
    node = NodeSettings("hung", f"http://127.0.0.1:{hung_port}", timeout=0.5)
    started = time.monotonic()
    with pytest.raises(errors.NodeUnreachable) as exc:
        NodeClient(node).all_processes()
    assert time.monotonic() - started < 0.5 + 1.0
    assert str(exc.value) == "node `hung` unreachable (no answer within 0.5s)"


def _read_request(conn: socket.socket) -> None:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        (
            int(line.split(b":", 1)[1])
            for line in head.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        ),
        0,
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            return
        body += chunk


@pytest.fixture
def garbage_port() -> Iterator[int]:
    """A TCP server that answers every connection with an HTTP 200 whose body is not XML."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    server.settimeout(0.2)
    done = threading.Event()

    def serve() -> None:
        while not done.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(5)
                _read_request(conn)  # all of it: closing with unread bytes resets the connection
                conn.sendall(
                    b"HTTP/1.0 200 OK\r\nContent-Type: text/xml\r\n\r\nhello, I am not supervisord"
                )

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    done.set()
    thread.join(5)
    server.close()


def test_an_answer_that_is_not_xml_rpc_is_a_clear_protocol_error(garbage_port: int) -> None:
    url = f"http://127.0.0.1:{garbage_port}"
    with pytest.raises(errors.NodeMisconfigured) as exc:
        NodeClient(NodeSettings("odd", url, timeout=2)).all_processes()
    assert str(exc.value).startswith(f"node `odd`: the answer at {url} is not XML-RPC (")
    assert str(exc.value).endswith("is this supervisord's address?")


def test_a_programming_error_is_not_disguised_as_an_unreachable_node(client: NodeClient) -> None:
    # xmlrpc cannot marshal an object: a bug in supbot, which must reach the top-level handler
    # (error id + traceback), not read "node unreachable (TypeError)".
    with pytest.raises(TypeError):
        client.call("getProcessInfo", object())


def test_supervisord_without_rpcinterface_is_explained() -> None:
    bare = EmbeddedSupervisor(short_tmp() / "norpc", "", rpcinterface=False)
    with bare, pytest.raises(errors.NodeMisconfigured) as exc:
        NodeClient(bare.node()).all_processes()
    assert str(exc.value) == f"node `local`: {NO_RPCINTERFACE}"
    assert "[rpcinterface:supervisor]" in str(exc.value)


# --- the fleet -----------------------------------------------------------------------------

SECOND = f"""
[program:api]
command={PY} -c "import time; time.sleep(100000)"
startsecs=0
"""


def test_dead_node_costs_one_timeout_while_the_others_answer(
    sv: EmbeddedSupervisor, hung_port: int, tmp_path: Path
) -> None:
    with EmbeddedSupervisor(short_tmp() / "second", SECOND) as second:
        nodes = [
            sv.node("one"),
            second.node("two"),
            NodeSettings("hung", f"http://127.0.0.1:{hung_port}", timeout=1.0),
            NodeSettings("gone", f"unix://{tmp_path}/none.sock", timeout=1.0),
        ]
        fleet = Fleet(nodes)
        try:
            started = time.monotonic()
            statuses = {s.node: s for s in fleet.status(fresh=True)}
            elapsed = time.monotonic() - started
            assert elapsed < 1.0 + 1.5, elapsed  # one timeout, not one per node or process
            assert statuses["one"].error is None and len(statuses["one"].processes) >= 5
            assert statuses["two"].error is None
            assert [p.display_name for p in statuses["two"].processes] == ["api"]
            assert statuses["hung"].error == "no answer within 1s"
            assert statuses["hung"].processes == ()
            assert "not found" in (statuses["gone"].error or "")
            assert fleet.multi_node
        finally:
            fleet.close()


def test_fleet_reconnects_after_supervisord_restarts() -> None:
    second = EmbeddedSupervisor(short_tmp() / "restart", SECOND)
    second.start()
    fleet = Fleet([second.node("two", timeout=2)], cache_ttl=60)
    try:
        first = fleet.status(fresh=True)[0]
        assert first.error is None
        second.stop()
        down = fleet.status(fresh=True)[0]
        assert down.error and down.processes == ()
        # a failed read is not cached: the last good status is not served as current
        assert fleet.status()[0].fetched_at == first.fetched_at
        second.start()
        wait_until(lambda: fleet.status(fresh=True)[0].error is None, 10)
        assert [p.name for p in fleet.status(fresh=True)[0].processes] == ["api"]
    finally:
        fleet.close()
        second.stop()


def test_twenty_concurrent_askers_share_one_read(
    sv: EmbeddedSupervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = Fleet([sv.node()])
    client = fleet.clients["local"]
    real = client.all_processes
    calls: list[float] = []

    def counting() -> tuple[ProcessInfo, ...]:
        calls.append(time.monotonic())
        time.sleep(0.5)  # a slow node: every asker arrives while the first read is in flight
        return real()

    monkeypatch.setattr(client, "all_processes", counting)
    barrier = threading.Barrier(20)
    results: list[NodeStatus] = []

    def ask() -> None:
        barrier.wait()
        results.append(fleet.status(fresh=True)[0])

    threads = [threading.Thread(target=ask) for _ in range(20)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(10)
        assert len(results) == 20 and len(calls) == 1
        assert all(r is results[0] for r in results)
        assert results[0].error is None and results[0].processes
    finally:
        fleet.close()


def test_status_is_cached_until_invalidated(sv: EmbeddedSupervisor) -> None:
    fleet = Fleet([sv.node()], cache_ttl=60)
    try:
        first = fleet.status()[0]
        assert fleet.status()[0] is first
        assert fleet.status(fresh=True)[0] is not first
        cached = fleet.status()[0]
        fleet.invalidate("local")
        assert fleet.status()[0] is not cached
        with pytest.raises(errors.UsageError, match="Unknown node `nope`; nodes: local"):
            fleet.status(["nope"])
    finally:
        fleet.close()


def test_a_read_that_fails_unexpectedly_does_not_stick(
    sv: EmbeddedSupervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    fleet = Fleet([sv.node()])
    client = fleet.clients["local"]
    real = client.all_processes
    failures = [errors.SupbotError("node `local`: supervisord answered 99: ODD")]

    def flaky() -> tuple[ProcessInfo, ...]:
        if failures:
            raise failures.pop()
        return real()

    monkeypatch.setattr(client, "all_processes", flaky)
    try:
        first = fleet.status(fresh=True)[0]
        assert first.error == "node `local`: supervisord answered 99: ODD"
        second = fleet.status(fresh=True)[0]  # read again, not the failed read in flight
        assert second.error is None and second.processes
    finally:
        fleet.close()


def test_a_poll_reads_anew_and_users_asking_meanwhile_take_its_answer(
    sv: EmbeddedSupervisor, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Fleet.read_now (the watcher's poll): it does not take the answer of a status read that
    began before it, and a user's `status --fresh` asked while it runs gets its answer."""
    fleet = Fleet([sv.node()], cache_ttl=60, shared_reads=tmp_path / "reads")
    client = fleet.clients["local"]
    real = client.all_processes
    calls: list[str] = []
    gates = {"user": threading.Event(), "poll": threading.Event()}
    started = {"user": threading.Event(), "poll": threading.Event()}

    def gated() -> tuple[ProcessInfo, ...]:
        who = "user" if not calls else "poll"
        calls.append(who)
        started[who].set()
        gates[who].wait(10)
        return real()

    monkeypatch.setattr(client, "all_processes", gated)
    results: dict[str, object] = {}
    try:
        user = threading.Thread(target=lambda: results.update(user=fleet.status(fresh=True)[0]))
        user.start()
        assert started["user"].wait(10)
        poll = threading.Thread(target=lambda: results.update(poll=fleet.read_now("local")))
        poll.start()
        time.sleep(0.2)
        assert calls == ["user"]  # the poll waits: that read began before it asked
        gates["user"].set()
        assert started["poll"].wait(10)  # then it reads for itself
        late = threading.Thread(target=lambda: results.update(late=fleet.status(fresh=True)[0]))
        late.start()
        time.sleep(0.2)
        gates["poll"].set()
        for thread in (user, poll, late):
            thread.join(10)
        assert calls == ["user", "poll"]  # the late user took the poll's answer
        late_status = results["late"]
        assert isinstance(late_status, NodeStatus)
        assert late_status.processes == results["poll"]
        assert fleet.status()[0] is late_status  # and the status cache keeps it
    finally:
        fleet.close()


def test_a_poll_of_a_node_that_is_down_raises_and_users_see_the_error(tmp_path: Path) -> None:
    dead = NodeSettings(name="gone", url=f"unix://{tmp_path}/none.sock", timeout=1)
    fleet = Fleet([dead], shared_reads=tmp_path / "reads")
    try:
        with pytest.raises(errors.NodeUnreachable):
            fleet.read_now("gone")
        assert fleet.status(fresh=True)[0].error
    finally:
        fleet.close()


def test_a_fresh_status_takes_a_read_that_ended_after_it_was_asked(
    sv: EmbeddedSupervisor, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A handler that starts late (20 askers on 2 cores) answers as asked on arrival: a read
    in flight then is fresh enough; one that had ended before is not (bot/asked.py)."""
    fleet = Fleet([sv.node()], cache_ttl=60)
    client = fleet.clients["local"]
    real = client.all_processes
    calls: list[float] = []

    def counting() -> tuple[ProcessInfo, ...]:
        calls.append(time.time())
        return real()

    monkeypatch.setattr(client, "all_processes", counting)
    try:
        arrived = time.time()  # the question arrives; its handler runs after the read below
        first = fleet.status(fresh=True)[0]
        with asking(arrived):
            assert fleet.status(fresh=True)[0] is first
        assert len(calls) == 1
        with asking(time.time()):  # asked after that read ended: supervisord is asked again
            again = fleet.status(fresh=True)[0]
        assert again is not first and len(calls) == 2
        assert fleet.status(fresh=True)[0] is not again  # no arrival time: asked now
        assert len(calls) == 3
    finally:
        fleet.close()
