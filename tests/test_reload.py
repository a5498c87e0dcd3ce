"""Reload = reread (dry run with the diff) + update (apply exactly that diff), on a real
supervisord whose configuration file the tests edit."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot import errors
from bot.audit import AuditUnavailable
from bot.auth import Access
from bot.config import ApiToken
from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from bot.supervisor.client import NodeClient
from tests.conftest import PY, break_audit, make_settings, short_tmp, wait_until


def program(name: str, marker: str = "v1", autostart: bool = True) -> str:
    return (
        f"[program:{name}]\n"
        f'command={PY} -c "import time; time.sleep(100000)" {marker}\n'
        f"startsecs=0\nstopwaitsecs=5\nautostart={'true' if autostart else 'false'}\n\n"
    )


BEFORE = program("keep") + program("change") + program("remove")
AFTER = program("keep") + program("change", "v2") + program("added")


@pytest.fixture
def sv() -> Iterator[EmbeddedSupervisor]:
    sup = EmbeddedSupervisor(short_tmp() / "sv", BEFORE)
    sup.start()
    client = NodeClient(sup.node())
    wait_until(lambda: sum(p.state == "RUNNING" for p in client.all_processes()) == 3, 10)
    yield sup
    sup.stop()


@pytest.fixture
def services(sv: EmbeddedSupervisor, tmp_path: Path) -> Iterator[Services]:
    toml = f"""
[storage]
dir = "state"

[[nodes]]
name = "local"
url = "{sv.url}"
timeout = "5s"

[[channels]]
id = "C0OPS"
programs = ["*"]
viewers = ["*"]
operators = ["U0OPER"]
admins = ["U0ADMIN"]
"""
    svc = Services.build(make_settings(tmp_path, toml))
    yield svc
    svc.close()


def admin(services: Services) -> Access:
    return services.authorizer.for_channel("U0ADMIN", "C0OPS", "slash")


def pids(sv: EmbeddedSupervisor) -> dict[str, int]:
    return {p.name: p.pid for p in NodeClient(sv.node()).all_processes()}


def edit(sv: EmbeddedSupervisor, programs: str) -> None:
    sv.programs = programs
    sv.write_config()


def test_nothing_to_do_is_an_empty_diff(services: Services) -> None:
    (diff,) = services.reload.preview(admin(services))
    assert diff.empty and diff.node == "local"


def test_dry_run_shows_added_changed_removed_and_changes_nothing(
    sv: EmbeddedSupervisor, services: Services
) -> None:
    before = pids(sv)
    edit(sv, AFTER)
    (diff,) = services.reload.preview(admin(services))
    assert (diff.added, diff.changed, diff.removed) == (("added",), ("change",), ("remove",))
    assert services.reload.preview(admin(services)) == [diff]  # safe to ask again
    assert pids(sv) == before


def test_apply_updates_exactly_the_diff_and_keeps_unchanged_pids(
    sv: EmbeddedSupervisor, services: Services
) -> None:
    before = pids(sv)
    edit(sv, AFTER)
    (diff,) = services.reload.preview(admin(services))
    (result,) = services.reload.apply(admin(services), [diff.fingerprint])
    assert result.ok and result.diff == diff
    assert result.messages == (
        "remove: stopped and removed",
        "change: updated process group",
        "added: added process group",
    )
    client = NodeClient(sv.node())
    wait_until(lambda: client.process("added:added").state == "RUNNING", 10)
    after = {p.name: p for p in client.all_processes()}
    assert set(after) == {"keep", "change", "added"}
    assert after["keep"].pid == before["keep"]
    assert after["change"].pid != before["change"] and after["change"].command.endswith("v2")
    assert services.reload.preview(admin(services))[0].empty
    entry = services.audit.since(60)[-1]
    assert (entry.action, entry.outcome, entry.target) == ("reload", "ok", diff.fingerprint)


def test_apply_refuses_when_the_diff_changed_since_the_preview(
    sv: EmbeddedSupervisor, services: Services
) -> None:
    edit(sv, AFTER)
    (shown,) = services.reload.preview(admin(services))
    edit(sv, AFTER + program("later"))
    with pytest.raises(errors.ReloadChanged) as exc:
        services.reload.apply(admin(services), [shown.fingerprint])
    assert "changed since the preview" in str(exc.value)
    assert set(pids(sv)) == {"keep", "change", "remove"}  # nothing applied
    entry = services.audit.since(60)[-1]
    assert (entry.action, entry.outcome) == ("reload", "changed")


def test_apply_of_a_stale_empty_preview_is_refused(
    sv: EmbeddedSupervisor, services: Services
) -> None:
    assert services.reload.preview(admin(services))[0].empty
    edit(sv, AFTER)
    with pytest.raises(errors.ReloadChanged):
        services.reload.apply(admin(services), [])


def test_broken_supervisord_config_is_cant_reread_with_the_reason(
    sv: EmbeddedSupervisor, services: Services
) -> None:
    edit(sv, BEFORE + "[program:bad]\ncommand=/bin/true\nstartsecs=soon\n")
    with pytest.raises(errors.ReloadFailed) as exc:
        services.reload.preview(admin(services))
    message = str(exc.value)
    assert message.startswith("supervisord cannot read its configuration: ")
    assert "program:bad" in message and message.endswith("Fix the file and try again.")


def test_only_admins_may_reload(services: Services) -> None:
    operator = services.authorizer.for_channel("U0OPER", "C0OPS", "slash")
    with pytest.raises(errors.Forbidden, match="needs the admin role"):
        services.reload.preview(operator)
    with pytest.raises(errors.Forbidden):
        services.reload.apply(operator, [])
    entry = services.audit.since(60)[-1]
    assert (entry.actor, entry.action, entry.outcome) == ("U0OPER", "reload", "refused")


def test_admin_of_one_node_reloads_only_that_node(sv: EmbeddedSupervisor, tmp_path: Path) -> None:
    toml = f"""
[storage]
dir = "state"
[[nodes]]
name = "a"
url = "{sv.url}"
[[nodes]]
name = "b"
url = "{sv.url}"
[[channels]]
id = "C0B"
programs = ["*@b"]
admins = ["U0BADMIN"]
"""
    svc = Services.build(make_settings(tmp_path, toml))
    try:
        access = svc.authorizer.for_channel("U0BADMIN", "C0B", "slash")
        assert svc.reload.nodes_for(access) == ["b"]
        assert [d.node for d in svc.reload.preview(access)] == ["b"]
    finally:
        svc.close()


def scoped(sv: EmbeddedSupervisor, tmp_path: Path, programs: str) -> Services:
    """C0OPS administers everything; C0APP's admin U0APPADM only `programs`."""
    toml = f"""
[storage]
dir = "state"
[[nodes]]
name = "local"
url = "{sv.url}"
[[channels]]
id = "C0OPS"
programs = ["*"]
admins = ["U0ADMIN"]
[[channels]]
id = "C0APP"
programs = {programs}
admins = ["U0APPADM"]
"""
    return Services.build(make_settings(tmp_path, toml))


def test_admin_of_some_programs_of_a_node_may_not_reload_it(
    sv: EmbeddedSupervisor, tmp_path: Path
) -> None:
    svc = scoped(sv, tmp_path, '["keep@local"]')
    try:
        access = svc.authorizer.for_channel("U0APPADM", "C0APP", "slash")
        with pytest.raises(errors.Forbidden) as exc:
            svc.reload.preview(access)
        assert str(exc.value) == (
            "You may not reload `local` here: a reload changes every program on that node, so "
            "it needs the admin role over all of them; the admins of this binding do not cover "
            "`change`, `remove`. Bindings that may reload `local`: channel `C0OPS` (or any with "
            'programs = ["*@local"] or ["*"]).'
        )
        entry = svc.audit.since(60)[-1]
        assert (entry.actor, entry.action, entry.outcome) == ("U0APPADM", "reload", "refused")
    finally:
        svc.close()


def test_programs_the_reload_would_add_must_be_covered_too(
    sv: EmbeddedSupervisor, tmp_path: Path
) -> None:
    svc = scoped(sv, tmp_path, '["keep", "change", "remove"]')  # every program running now
    try:
        access = svc.authorizer.for_channel("U0APPADM", "C0APP", "slash")
        assert svc.reload.preview(access)[0].empty  # nothing to add: the binding covers it all
        edit(sv, AFTER)
        (shown,) = svc.reload.preview(svc.authorizer.for_channel("U0ADMIN", "C0OPS", "slash"))
        with pytest.raises(errors.Forbidden, match="do not cover `added`"):
            svc.reload.preview(access)
        # the Apply button of the full admin's preview, clicked by the scoped admin
        with pytest.raises(errors.Forbidden, match="do not cover `added`"):
            svc.reload.apply(access, [shown.fingerprint])
        assert set(pids(sv)) == {"keep", "change", "remove"}  # nothing applied
    finally:
        svc.close()


def test_no_binding_can_reload_says_which_programs_would_do(
    sv: EmbeddedSupervisor, tmp_path: Path
) -> None:
    svc = scoped(sv, tmp_path, '["keep"]')
    try:
        access = svc.authorizer.explicit("U0APPADM", "home")
        token = ApiToken("scoped", "t", "admin", ("keep",))
        with pytest.raises(errors.Forbidden) as exc:
            svc.reload.preview(svc.authorizer.for_token(token))
        assert str(exc.value).startswith("Token `scoped` may not reload `local`: ")
        assert str(exc.value).endswith(
            'No token may reload `local` yet: give one programs = ["*@local"] or ["*"] and the '
            "admin role."
        )
        with pytest.raises(errors.Forbidden, match="from this surface"):
            svc.reload.preview(access)
    finally:
        svc.close()


def test_no_record_no_reload(sv: EmbeddedSupervisor, services: Services) -> None:
    before = pids(sv)
    edit(sv, AFTER)
    (diff,) = services.reload.preview(admin(services))
    break_audit(services)
    with pytest.raises(AuditUnavailable, match="Nothing was changed"):
        services.reload.apply(admin(services), [diff.fingerprint])
    assert pids(sv) == before and not services.reload.preview(admin(services))[0].empty
