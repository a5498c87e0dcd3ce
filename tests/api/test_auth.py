"""Bearer tokens and the authorization matrix: tokens (roles × globs) × endpoints.

Tokens (tests/api/conftest.py):
  admin     admin     programs *
  deploy    operator  programs web, idle, broken, stubborn
  viewer    viewer    programs *
  webview   viewer    programs web
  workerop  operator  programs worker:*
"""

from __future__ import annotations

import pytest
import requests

from bot.api.auth import Unauthorized, authenticate, bearer, token_for
from bot.config import ApiToken
from bot.embedded import EmbeddedSupervisor
from tests.api.conftest import Api, api_services, serve, stop
from tests.conftest import short_tmp

# (token, method, path, expected status) — the expected outcome of every combination.
MATRIX = [
    # reading: any role; only inside the token's globs (outside → 403, unknown → 404)
    ("admin", "GET", "/processes", 200),
    ("viewer", "GET", "/processes", 200),
    ("webview", "GET", "/processes", 200),
    ("webview", "GET", "/processes?pattern=worker", 403),
    ("webview", "GET", "/processes/web", 200),
    ("webview", "GET", "/processes/worker:worker_00", 403),
    ("webview", "GET", "/processes/web/logs", 200),
    ("webview", "GET", "/processes/worker:worker_00/logs", 403),
    ("webview", "GET", "/processes/nosuch", 404),
    ("workerop", "GET", "/processes/worker:worker_01", 200),
    ("workerop", "GET", "/processes/web", 403),
    # acting: operator or admin, inside the globs
    ("viewer", "POST", "/processes/idle/stop", 403),  # role too low
    ("webview", "POST", "/processes/web/restart", 403),  # role too low
    ("deploy", "POST", "/processes/idle/stop", 200),  # idle is stopped already: a no-op
    ("deploy", "POST", "/processes/worker:worker_00/stop", 403),  # outside its globs
    ("deploy", "POST", "/processes/worker/stop", 403),  # a group outside its globs
    ("deploy", "POST", "/processes/nosuch/start", 404),
    ("workerop", "POST", "/processes/idle/start", 403),  # outside its globs
    ("workerop", "POST", "/processes/worker:worker_00/start", 200),  # already running: ok
    ("admin", "POST", "/processes/idle/stop", 200),
    # reload: admin only, dry run included
    ("viewer", "POST", "/reload?dry_run=true", 403),
    ("deploy", "POST", "/reload?dry_run=true", 403),
    ("admin", "POST", "/reload?dry_run=true", 200),
    # audit: admin only
    ("viewer", "GET", "/audit", 403),
    ("deploy", "GET", "/audit", 403),
    ("admin", "GET", "/audit", 200),
    # jobs: listing and history need viewer; run needs operator; globs over job names
    ("viewer", "GET", "/jobs", 200),
    ("webview", "GET", "/jobs", 200),  # an empty list: its jobs globs are empty
    ("deploy", "GET", "/jobs/nightly-backup/runs", 200),
    ("deploy", "GET", "/jobs/report/runs", 403),  # outside its jobs globs
    ("viewer", "POST", "/jobs/nightly-backup/run", 403),  # role too low
    ("webview", "POST", "/jobs/nightly-backup/run", 403),  # outside its (empty) globs
    ("deploy", "POST", "/jobs/report/run", 403),  # outside its jobs globs
    ("deploy", "POST", "/jobs/nosuch/run", 404),
    ("viewer", "POST", "/schedule/run", 403),
    ("deploy", "POST", "/schedule/run", 200),  # nothing is due at test time
    # commands: listing needs viewer; run needs operator; globs over command names
    ("viewer", "GET", "/commands", 200),
    ("deploy", "POST", "/commands/cache-clear/run", 200),
    ("viewer", "POST", "/commands/cache-clear/run", 403),  # role too low
    ("workerop", "POST", "/commands/cache-clear/run", 403),  # outside its (empty) globs
    ("deploy", "POST", "/commands/migrate/run", 403),  # outside its commands globs
    ("admin", "POST", "/commands/migrate/run", 200),
    ("deploy", "POST", "/commands/nosuch/run", 404),
    # no token or a wrong one
    (None, "GET", "/processes", 401),
    ("not-a-token", "GET", "/processes", 401),
    (None, "POST", "/processes/idle/start", 401),
    ("not-a-token", "POST", "/reload", 401),
]


def _snapshot(api: Api) -> dict[str, tuple[str, int]]:
    processes = api.get("/api/v1/processes?fresh=true").json()["processes"]
    return {p["display_name"]: (p["state"], p["pid"]) for p in processes}


@pytest.mark.parametrize(("token", "method", "path", "expected"), MATRIX)
def test_authorization_matrix(
    api: Api, token: str | None, method: str, path: str, expected: int
) -> None:
    mutating = method == "POST"
    before = _snapshot(api) if mutating and expected == 403 else None
    audited = len(api.services.audit.since())
    r = api.call(method, "/api/v1" + path, token)
    assert r.status_code == expected, r.text
    if expected >= 400:
        assert set(r.json()) >= {"error", "detail"}
    if expected == 401:
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
    if before is not None:
        assert _snapshot(api) == before  # nothing happened
        refused = api.services.audit.since()[audited:]
        assert [(e.actor, e.outcome) for e in refused] == [(f"api:{token}", "refused")]


def test_a_refusal_names_the_token_and_the_role_it_lacks(api: Api) -> None:
    body = api.post("/api/v1/processes/web/restart", token="webview").json()
    assert body["error"] == "forbidden"
    assert "Token `webview` may not restart `web`" in body["detail"]
    assert "operator" in body["detail"]


def test_bearer_header_forms() -> None:
    assert bearer("Bearer abc") == "abc"
    assert bearer("bearer   abc ") == "abc"
    for header in (None, "", "Bearer", "Bearer ", "Basic abc", "abc"):
        with pytest.raises(Unauthorized):
            bearer(header)


def test_token_lookup_is_exact_and_never_matches_an_empty_token() -> None:
    tokens = [ApiToken("a", "secret-a"), ApiToken("empty", ""), ApiToken("b", "secret-b")]
    assert token_for(tokens, "secret-b") == tokens[2]
    assert token_for(tokens, "secret-") is None
    assert token_for(tokens, "secret-bb") is None
    assert token_for(tokens, "") is None
    assert token_for(tokens, "sécret-€") is None  # non-ASCII input is compared, not an error
    with pytest.raises(Unauthorized):
        authenticate(tokens, "Bearer secret-c")
    assert authenticate(tokens, "Bearer secret-a").actor.id == "api:a"


def test_without_api_tokens_the_api_is_off(api_supervisor: EmbeddedSupervisor) -> None:
    services = api_services(api_supervisor, short_tmp(), extra="")
    served = serve(services)
    try:
        for path in ("/api/v1/processes", "/api/v1/openapi.json", "/api/v1/nothing", "/api"):
            r = requests.get(served.base + path, headers={"Authorization": "Bearer x"}, timeout=10)
            assert r.status_code == 404, path
            assert "api_tokens" in r.json()["detail"]
        r = requests.post(served.base + "/api/v1/processes/web/stop", timeout=10)
        assert r.status_code == 404
    finally:
        stop(served)
        services.close()


def test_tokens_are_read_from_the_current_configuration(
    api_supervisor: EmbeddedSupervisor,
) -> None:
    """A SIGHUP reload swaps the Services; the API uses the new tokens at once."""
    current = [api_services(api_supervisor, short_tmp(), extra="")]
    served = serve(lambda: current[0])
    url = served.base + "/api/v1/processes"
    headers = {"Authorization": "Bearer tok-viewer-0123456789"}
    try:
        assert requests.get(url, headers=headers, timeout=10).status_code == 404
        old, current[0] = current[0], api_services(api_supervisor, short_tmp())
        old.close()
        assert requests.get(url, headers=headers, timeout=10).status_code == 200
    finally:
        stop(served)
        current[0].close()
