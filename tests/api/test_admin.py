"""Reload, audit, and what a node that does not answer looks like."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from sqlalchemy import update

from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from bot.storage.tables import audit
from bot.supervisor.client import NodeClient
from tests.api.conftest import TOKEN_ENV, TOKENS_TOML, Api, api_services, serve, stop
from tests.conftest import PY, basic_toml, make_settings, short_tmp

EXTRA = f"""
[program:extra]
command={PY} -c "import time; time.sleep(100000)"
startsecs=0
"""


@pytest.fixture
def own_api(supervisor: EmbeddedSupervisor) -> Iterator[Api]:
    """An API on a supervisord of its own: these tests change its configuration."""
    services = api_services(supervisor, short_tmp())
    served = serve(services)
    yield Api(served.base, services)
    stop(served)
    services.close()


def test_reload_dry_run_shows_the_diff_and_changes_nothing(
    own_api: Api, supervisor: EmbeddedSupervisor
) -> None:
    supervisor.programs += EXTRA
    supervisor.write_config()
    r = own_api.post("/api/v1/reload", params={"dry_run": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["dry_run"] is True
    assert body["diffs"][0]["added"] == ["extra"]
    assert body["results"] == []
    assert own_api.get("/api/v1/processes/extra").status_code == 404


def test_reload_applies_the_diff_and_is_audited(
    own_api: Api, supervisor: EmbeddedSupervisor
) -> None:
    supervisor.programs += EXTRA
    supervisor.write_config()
    r = own_api.post("/api/v1/reload")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["ok"] is True
    assert body["results"] == [
        {"node": "local", "ok": True, "messages": ["extra: added process group"]}
    ]
    assert own_api.get("/api/v1/processes/extra").json()["process"]["state"] in (
        "STARTING",
        "RUNNING",
    )
    assert [(e.action, e.outcome) for e in own_api.audit("api:admin")] == [("reload", "ok")]
    # nothing left to do: a second reload is a no-op
    again = own_api.post("/api/v1/reload").json()
    assert again["diffs"][0]["added"] == [] and again["results"] == []


def test_reload_refused_for_an_operator_is_audited(own_api: Api) -> None:
    r = own_api.post("/api/v1/reload", token="deploy")
    assert r.status_code == 403
    assert [(e.action, e.outcome) for e in own_api.audit("api:deploy")] == [("reload", "refused")]


WEB_ADMIN = """
[[api_tokens]]
name = "webadmin"
token_env = "TOK_WEBADMIN"
role = "admin"
programs = ["web"]
"""


def test_reload_refused_for_an_admin_token_over_some_programs(
    supervisor: EmbeddedSupervisor,
) -> None:
    toml = basic_toml(supervisor, TOKENS_TOML + WEB_ADMIN)
    env = {**TOKEN_ENV, "TOK_WEBADMIN": "tok-webadmin-0123456789"}
    services = Services.build(make_settings(short_tmp(), toml, env))
    served = serve(services)
    try:
        supervisor.programs += EXTRA
        supervisor.write_config()
        r = Api(served.base, services).post("/api/v1/reload", token="tok-webadmin-0123456789")
        assert r.status_code == 403, r.text
        detail = r.json()["detail"]
        assert detail.startswith("Token `webadmin` may not reload `local`: a reload changes")
        assert "Tokens that may reload `local`: `admin`" in detail and "`extra`" in detail
        assert "extra" not in {p.group for p in NodeClient(supervisor.node()).all_processes()}
    finally:
        stop(served)
        services.close()


def test_audit_lists_entries_since_a_duration(own_api: Api) -> None:
    own_api.post("/api/v1/processes/idle/start", token="deploy")
    own_api.services.audit.record("U0OLD", "slash", "stop", "web", "ok")
    with own_api.services.store.connect() as db:  # make the Slack entry two hours old
        db.execute(update(audit).where(audit.c.actor == "U0OLD").values(at=time.time() - 7200))
    recent = own_api.get("/api/v1/audit", params={"since": "1h"}).json()["entries"]
    assert [(e["actor"], e["action"], e["target"]) for e in recent] == [
        ("api:deploy", "start", "idle@local")
    ]
    everything = own_api.get("/api/v1/audit", params={"since": "3h"}).json()["entries"]
    assert sorted(e["actor"] for e in everything) == ["U0OLD", "api:deploy"]
    bad = own_api.get("/api/v1/audit", params={"since": "yesterday"})
    assert bad.status_code == 400
    assert "duration" in bad.json()["detail"]


def test_a_node_that_does_not_answer_is_503() -> None:
    """A configured node whose socket is gone: every process endpoint answers 503."""
    dead = EmbeddedSupervisor(short_tmp() / "sv", "")  # never started
    services = api_services(dead, short_tmp())
    served = serve(services)
    api = Api(served.base, services)
    try:
        for method, path in (
            ("GET", "/api/v1/processes"),
            ("GET", "/api/v1/processes/web"),
            ("GET", "/api/v1/processes/web/logs"),
            ("POST", "/api/v1/processes/web/restart"),
            ("POST", "/api/v1/reload?dry_run=true"),
        ):
            r = api.call(method, path)
            assert r.status_code == 503, (path, r.text)
            assert r.json()["error"] == "node_unreachable"
            assert r.json()["node"] == "local"
    finally:
        stop(served)
        services.close()
