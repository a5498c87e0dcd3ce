"""The alerts' state on both engines (SQLite, a real PostgreSQL): events are recorded once,
incidents, the outbox's order and claims, the shared pace, snoozes, the small kv records."""

from __future__ import annotations

import os
from dataclasses import replace

from bot.alerts.outbox import BURST, LEASE, Outbox
from bot.alerts.records import EventRecord, ProcessEvent
from bot.runs.alive import holder_id
from bot.state import Store
from bot.storage.alerts.store import AlertStore


def crash(pid: int = 42, stop: float = 1000.0) -> ProcessEvent:
    return ProcessEvent("local", "web:web", "EXITED", "watcher", "RUNNING", pid=pid, stop=stop)


def test_an_event_is_recorded_once_and_waits_until_processed(state_store: Store) -> None:
    alerts = AlertStore(state_store)
    assert alerts.record_event(crash())
    assert not alerts.record_event(crash())  # the same key: the other detector, a retry
    assert alerts.record_event(crash(pid=43, stop=1001.0))
    assert alerts.pending_events() == 2 and alerts.has_pending_events()
    with alerts.transaction() as tx:
        first, second = tx.pending_events(10)
        tx.mark_processed(first.id, "opened")
        assert tx.handled_exit("local", "web:web", 42, 0.0)
        assert not tx.handled_exit("local", "web:web", 43, 0.0)
        other = replace(second, source="log", pid=0, stop=1000.5)  # the log saw it too
        assert tx.handled_near(other, 0.0, 999.0, 1001.0)
        assert not tx.handled_near(other, 0.0, 1000.6, 1001.0)
    assert alerts.pending_events() == 1


def test_an_incident_repeats_closes_and_escalates_each_level_once(state_store: Store) -> None:
    alerts = AlertStore(state_store)
    ev = EventRecord(1, 1.0, "local", "web:web", "EXITED", "RUNNING", 42, 100.0, None, 0, "x")
    with alerts.transaction() as tx:
        inc = tx.open_incident("process", "C1", ev, 1, snoozed=False)
        tx.set_ts("incident", inc, "111.222")
        tx.repeat_incident(tx.incident(inc), replace(ev, pid=43, exitstatus=3), 1)  # type: ignore[arg-type]
    alerts.save_log(inc, ["boom"], 9)  # the event's exit status is kept
    found = alerts.incident(inc)
    assert (found.crashes, found.pid, found.exitstatus, found.log) == (2, 43, 3, ["boom"])
    assert [i.id for i in alerts.open_incidents()] == [inc]
    assert alerts.open_incident_processes("local") == {"web:web"}
    with alerts.transaction() as tx:
        assert [i.id for i in tx.to_escalate(200.0, 1)] == [inc]
        tx.mark_escalated(inc, 2)
        tx.mark_escalated(inc, 1)  # a lower level never lowers it
        assert tx.to_escalate(200.0, 2) == []
        tx.close_incident(inc, "recovered", 150.0, 44)
    assert not alerts.has_open_incident("local", "web:web")
    assert alerts.incident(inc).escalated == 2


def test_outbox_rows_of_a_channel_go_one_at_a_time_in_order(state_store: Store) -> None:
    alerts = AlertStore(state_store)
    with alerts.transaction() as tx:
        a1 = tx.enqueue("CA", "digest", 0, {"text": "a1"})
        a2 = tx.enqueue("CA", "digest", 0, {"text": "a2"})
        b1 = tx.enqueue("CB", "incident", 7)
        assert tx.enqueue("CB", "incident", 7) == b1  # a pending sync already covers it
    outbox = Outbox(alerts)
    rows, _ = outbox.claim()
    assert [r.id for r in rows] == [a1, b1] and rows[0].payload == {"text": "a1"}
    assert Outbox(alerts).claim()[0] == []  # both heads are in flight
    alerts.sent(a1)
    alerts.retry(b1, 60.0, "Slack unreachable")
    rows, wait = outbox.claim()
    assert [r.id for r in rows] == [a2]  # CB waits behind its retried head
    assert 0 < wait <= 1.0
    assert alerts.backlog() == 2 and alerts.has_unsent()
    alerts.sent(a2)
    assert alerts.backlog() == 1


def test_a_claim_expires_by_the_database_clock_and_a_dead_claimer_is_taken_over(
    state_store: Store,
) -> None:
    alerts = AlertStore(state_store)
    with alerts.transaction() as tx:
        remote = tx.enqueue("CR", "digest", 0, {"text": "from another host"})
        fresh = tx.enqueue("CF", "digest", 0, {"text": "claimed just now"})
        dead = tx.enqueue("CD", "digest", 0, {"text": "claimer died"})
        now = tx.now()
        tx.claim(remote, "elsewhere:1:0.0", now - LEASE - 1)
        tx.claim(fresh, "elsewhere:1:0.0", now)
        tx.claim(dead, f"{os.uname().nodename}:{_dead_pid()}:0.0", now)
    rows, _ = Outbox(alerts).claim()
    assert sorted(r.id for r in rows) == [remote, dead]


def test_a_channel_is_paced_and_a_429_pauses_it(state_store: Store) -> None:
    alerts = AlertStore(state_store)
    with alerts.transaction() as tx:
        ids = [tx.enqueue("CP", "digest", 0, {"text": str(i)}) for i in range(5)]
    outbox, sent = Outbox(alerts), []
    for _ in range(5):
        rows, wait = outbox.claim()
        for row in rows:
            alerts.sent(row.id)
            sent.append(row.id)
    assert sent == ids[: int(BURST)] and 0 < wait <= 1.0  # a burst, then one a second
    alerts.rate_limited("CQ", 30.0)
    with alerts.transaction() as tx:
        tx.enqueue("CQ", "digest", 0, {"text": "later"})
    rows, _ = outbox.claim()
    assert all(r.channel != "CQ" for r in rows)


def test_a_snooze_keeps_its_count_while_in_force_and_starts_afresh_after(
    state_store: Store,
) -> None:
    alerts = AlertStore(state_store)
    with alerts.transaction() as tx:
        tx.put_snooze("local", "web:web", 2e9, "U1", 1000.0)
        tx.count_suppressed("local", "web:web", 3)
        tx.put_snooze("local", "web:web", 2e9 + 60, "U2", 1001.0)  # extended while in force
        assert tx.snoozed("local", "web:web")
    snooze = alerts.snooze("local", "web:web")
    assert snooze is not None and (snooze.by, snooze.suppressed) == ("U2", 3)
    with alerts.transaction() as tx:
        tx.put_snooze("local", "web:web", 2e9 + 120, "U3", 2e9 + 90)  # after it ended
        assert tx.snooze_of("local", "web:web").suppressed == 0  # type: ignore[union-attr]
        tx.delete_snooze("local", "web:web")
    assert alerts.snoozes() == [] and alerts.snooze("local", "web:web") is None


def test_lost_events_add_up_and_the_digest_is_claimed_once(state_store: Store) -> None:
    alerts = AlertStore(state_store)
    alerts.add_lost("local", 3)
    alerts.add_lost("local", 4)
    assert alerts.lost("local") == 7 and alerts.lost("other") == 0
    assert alerts.claim_digest(None, 100.0)
    assert not alerts.claim_digest(None, 101.0)  # another process moved it first
    assert alerts.claim_digest(100.0, 200.0) and alerts.digest_last() == 200.0


def test_old_delivered_rows_and_closed_incidents_are_pruned(state_store: Store) -> None:
    alerts = AlertStore(state_store)
    with alerts.transaction() as tx:
        row = tx.enqueue("CX", "digest", 0, {"text": "old"})
        kept = tx.enqueue("CX", "digest", 0, {"text": "unsent"})
    alerts.sent(row)
    alerts.prune(cutoff=4e9, events_cutoff=0.0)
    assert alerts.backlog() == 1
    rows, _ = Outbox(alerts, holder_id()).claim()
    assert [r.id for r in rows] == [kept]


def _dead_pid() -> int:
    pid = os.getpid() + 100000
    while True:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return pid
        except PermissionError:
            pass
        pid += 1
