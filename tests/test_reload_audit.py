"""Reload is on record before any node is touched; no record, no reload."""

from __future__ import annotations

import pytest

from bot.audit import AuditUnavailable
from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from tests.scheduler.test_commands_audit import break_audit
from tests.test_reload import AFTER, admin, edit, pids, services, sv  # noqa: F401  (fixtures)


def test_no_record_no_reload(sv: EmbeddedSupervisor, services: Services) -> None:  # noqa: F811
    before = pids(sv)
    edit(sv, AFTER)
    (diff,) = services.reload.preview(admin(services))
    break_audit(services)
    with pytest.raises(AuditUnavailable, match="Nothing was changed"):
        services.reload.apply(admin(services), [diff.fingerprint])
    assert pids(sv) == before and not services.reload.preview(admin(services))[0].empty
