"""Every action is on record before it happens: process actions, snooze and reload write the
attempt first and complete it after; when the attempt cannot be written nothing happens."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from bot.audit import AuditUnavailable
from bot.auth import Access
from bot.domain import ProcessInfo
from bot.services import Services
from bot.storage.tables import alert_snoozes
from bot.supervisor.client import NodeClient
from tests.conftest import break_audit


def operator(services: Services) -> Access:
    return services.authorizer.for_channel("U0OPER", "C0OPS", "slash")


def rows(services: Services) -> list[tuple[str, str, str]]:
    return [(e.action, e.target, e.outcome) for e in services.audit.since(60)]


def test_a_restart_is_on_record_before_supervisord_is_asked(services: Services) -> None:
    seen: list[list[tuple[str, str, str]]] = []

    def before(action: str, process: ProcessInfo) -> None:
        seen.append(rows(services))

    services.processes.before_action.append(before)
    report = services.processes.act(operator(services), "restart", "web")
    assert report.outcomes[0].ok
    assert seen == [[("restart", "web@local", "started")]]
    assert rows(services) == [("restart", "web@local", "ok")]  # the same row, completed


def test_no_record_no_restart(services: Services) -> None:
    client = NodeClient(services.settings.nodes[0])
    before = client.process("web").pid
    break_audit(services)
    with pytest.raises(AuditUnavailable, match="Nothing was changed"):
        services.processes.act(operator(services), "restart", "web")
    reply = services.dispatcher.run_text(operator(services), "stop web --yes")
    assert "database or disk is full" in getattr(reply, "text", "")
    after = client.process("web")
    assert after.pid == before and after.state == "RUNNING"


def test_no_record_no_snooze(services: Services) -> None:
    break_audit(services)
    reply = services.dispatcher.run_text(operator(services), "snooze web 1h")
    assert "Not done: the audit log could not record it" in getattr(reply, "text", "")
    with services.store.connect() as db:
        assert db.execute(select(func.count()).select_from(alert_snoozes)).scalar_one() == 0


def test_snooze_and_unsnooze_are_one_completed_row_each(services: Services) -> None:
    services.dispatcher.run_text(operator(services), "snooze web 1h")
    services.dispatcher.run_text(operator(services), "unsnooze web")
    services.dispatcher.run_text(operator(services), "unsnooze web")  # nothing left to do
    assert rows(services) == [("snooze", "web@local", "ok"), ("unsnooze", "web@local", "ok")]
