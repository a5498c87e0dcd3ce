"""Reads of a node shared between the processes of a host (serve's workers): a read asked while
another process has one in flight takes its answer; a read asked after it does not."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot.domain import NodeStatus, ProcessInfo
from bot.supervisor.shared_reads import SharedReads


def _status(pid: int) -> NodeStatus:
    process = ProcessInfo("n1", "web", "web", "RUNNING", pid, 1, 0, 2, 0, None, "", "pid")
    return NodeStatus("n1", (process,), 1.0)


def test_a_read_asked_while_another_process_reads_the_node_takes_its_answer(tmp_path: Path):
    first, second = SharedReads(tmp_path), SharedReads(tmp_path)  # as two processes would
    release, reading = threading.Event(), threading.Event()
    second_fetched = threading.Event()

    def slow() -> NodeStatus:
        reading.set()
        release.wait(10)
        return _status(101)

    def other() -> NodeStatus:
        second_fetched.set()
        return _status(202)

    with ThreadPoolExecutor(2) as pool:
        one = pool.submit(first.read, "n1", slow)
        reading.wait(10)
        two = pool.submit(second.read, "n1", other)
        time.sleep(0.2)  # it asks (and waits for the lock) while the first read is in flight
        release.set()
        assert one.result(10).processes[0].pid == 101
        assert two.result(10) == one.result()
    assert not second_fetched.is_set()


def test_a_read_asked_after_the_last_one_finished_asks_the_node_again(tmp_path: Path):
    reads = SharedReads(tmp_path)
    reads.read("n1", lambda: _status(101))
    assert reads.read("n1", lambda: _status(202)).processes[0].pid == 202


def test_without_a_usable_directory_each_process_reads_for_itself(tmp_path: Path):
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    assert SharedReads(blocked / "reads").read("n1", lambda: _status(7)).processes[0].pid == 7


def test_a_read_that_must_start_now_waits_for_the_one_in_flight_and_is_shared(tmp_path: Path):
    """The watcher's poll (join=False): never the answer of a read that began before it asked,
    but those who ask while it runs take its answer."""
    user, watcher, late = SharedReads(tmp_path), SharedReads(tmp_path), SharedReads(tmp_path)
    release_user, user_reading = threading.Event(), threading.Event()
    release_poll, poll_reading = threading.Event(), threading.Event()
    late_fetched = threading.Event()

    def user_read() -> NodeStatus:
        user_reading.set()
        release_user.wait(10)
        return _status(101)

    def poll() -> NodeStatus:
        poll_reading.set()
        release_poll.wait(10)
        return _status(202)

    def late_read() -> NodeStatus:
        late_fetched.set()
        return _status(303)

    with ThreadPoolExecutor(3) as pool:
        first = pool.submit(user.read, "n1", user_read)
        user_reading.wait(10)
        polled = pool.submit(watcher.read, "n1", poll, False)
        time.sleep(0.2)  # it asks while the user's read is in flight
        release_user.set()
        assert first.result(10).processes[0].pid == 101
        assert poll_reading.wait(10)  # it read for itself once the user's read ended
        joined = pool.submit(late.read, "n1", late_read)
        time.sleep(0.2)
        release_poll.set()
        assert polled.result(10).processes[0].pid == 202
        assert joined.result(10) == polled.result()
    assert not late_fetched.is_set()
