"""Job history, run-now requests and missed slots in the shared state, on both engines."""

from __future__ import annotations

import time
from pathlib import Path

from bot.redact import Redactor
from bot.scheduler.launch import JOBS_TOPIC, Launcher
from bot.scheduler.locks import SUPERVISED, Locks
from bot.state import Store
from bot.storage.jobs import History
from tests.scheduler.conftest import NEVER, job, settings_for

EVERY_MINUTE = "* * * * *"


def launcher_for(store: Store, tmp: Path, jobs: str) -> Launcher:
    history = History(store)
    return Launcher(settings_for(tmp, jobs), history, Locks(history, lambda p: ""), Redactor())


def test_a_run_is_finished_once_and_its_history_reads_back(state_store: Store) -> None:
    history = History(state_store)
    locks = Locks(history, lambda path: "")
    run_id = locks.claim("report", True, "slack", "U0OPER").run_id
    SUPERVISED.discard(run_id)
    done = history.finish(run_id, "failed", 3, "boom", "exit 3", notify=True)
    assert done is not None and (done.status, done.exit_code, done.by) == (
        "failed",
        3,
        "<@U0OPER> via slack",
    )
    later = history.finish(run_id, "ok", 0, "other")  # a closed run stays as it was
    assert later == done and history.output(run_id) == "boom"
    assert [r.id for r in history.recent("report")] == [run_id] == [history.last("report").id]  # type: ignore[union-attr]
    assert history.notifications() == [(done, "boom")]
    history.mark_notified(run_id)
    assert history.pending_notifications() == []
    assert history.problem_counts(done.started - 1, time.time() + 1) == [("report", "failed", 1)]
    assert history.prune(retention=3600) == 0 and history.prune(retention=-60) == 1
    assert history.get(run_id) is None


def test_skips_are_counted_per_job(state_store: Store) -> None:
    history = History(state_store)
    assert history.skips("slow") == (0, None)
    history.count_skip("slow")
    history.count_skip("slow")
    count, last = history.skips("slow")
    assert count == 2 and last is not None


def test_a_queued_request_wakes_the_runner_and_is_answered_once(
    state_store: Store, tmp_path: Path
) -> None:
    launcher = launcher_for(state_store, tmp_path, job("report", NEVER, "pass"))
    waiter = state_store.waiter(JOBS_TOPIC)
    assert not waiter.wait(0.01)  # listening from here on (PostgreSQL: LISTEN)
    request = launcher.queue("report", "cli", "cli:alice")
    try:
        assert waiter.wait(10)  # at once, not at the next poll
    finally:
        waiter.stop()
    (pending,) = launcher.pending()
    assert (pending.id, pending.job, pending.state) == (request, "report", "pending")
    claim = launcher.take(pending)
    assert claim.run_id
    answered = launcher.request(request)
    assert answered is not None and (answered.state, answered.run_id) == ("started", claim.run_id)
    assert launcher.take(pending).gone  # a second claimer finds it taken
    assert launcher.wait_all(10)


def test_a_request_for_a_job_no_longer_configured_is_refused(
    state_store: Store, tmp_path: Path
) -> None:
    launcher = launcher_for(state_store, tmp_path, job("report", NEVER, "pass"))
    request = launcher.queue("renamed", "cli", "cli:alice")
    (pending,) = launcher.pending()
    assert launcher.take(pending).gone
    refused = launcher.request(request)
    assert refused is not None and refused.state == "refused"
    assert refused.error == "`renamed` is not configured any more."


def test_slots_missed_while_nobody_evaluated_are_one_missed_run(
    state_store: Store, tmp_path: Path
) -> None:
    launcher = launcher_for(state_store, tmp_path, job("beat", EVERY_MINUTE, "pass"))
    (beat,) = launcher.settings.jobs
    start = 1_700_000_040.0  # a minute boundary
    assert launcher.evaluate(beat, start, start=False) is None  # first sight: nothing missed
    launcher.evaluate(beat, start + 5 * 60 + 1, start=False)  # 5 slots; the last within grace
    (missed,) = launcher.history.recent("beat")
    assert missed.status == "missed" and missed.scheduled == start + 60
    assert missed.error.startswith("missed 4 scheduled runs")
    claim = launcher.start(beat, "schedule", slot=start + 5 * 60)
    assert claim.run_id and launcher.wait_all(10)
    assert launcher.start(beat, "schedule", slot=start + 5 * 60).slot_taken
    assert launcher.history.get(claim.run_id).status == "ok"  # type: ignore[union-attr]
