"""Error bodies: always JSON {"error", "detail"}; a bug is a 500 with an id in the log."""

from __future__ import annotations

import logging

import pytest
import requests

from bot.services import Services
from tests.api.conftest import TOKENS, Api, serve, stop


def test_a_bug_is_a_500_with_an_error_id_and_the_traceback_in_the_log(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken_services() -> Services:
        raise RuntimeError("the services could not be built")

    served = serve(broken_services)
    try:
        with caplog.at_level(logging.ERROR, logger="supbot.api"):
            r = requests.get(served.base + "/api/v1/processes", timeout=10)
        assert r.status_code == 500
        body = r.json()
        assert body["error"] == "internal"
        error_id = body["detail"].split()[2].rstrip(";")
        assert "RuntimeError" not in r.text  # no traceback leaves the server
        record = next(rec for rec in caplog.records if error_id in rec.getMessage())
        assert record.exc_info is not None
        assert "the services could not be built" in str(record.exc_info[1])
    finally:
        stop(served)


def test_error_bodies_are_json_with_error_and_detail(api: Api) -> None:
    responses = [
        api.get("/api/v1/processes", token=None),  # 401
        api.post("/api/v1/processes/web/stop", token="viewer"),  # 403
        api.get("/api/v1/processes/nosuch"),  # 404
        api.get("/api/v1/processes/web@elsewhere"),  # 404: no such node
        api.get("/api/v1/processes?dryrun=true"),  # 400: unknown parameter
        api.call("DELETE", "/api/v1/processes"),  # 405
        api.post("/api/v1/commands/cache-warm/run", data=b"x" * 70_000),  # 413
    ]
    assert [r.status_code for r in responses] == [401, 403, 404, 404, 400, 405, 413]
    for r in responses:
        assert r.headers["content-type"] == "application/json"
        body = r.json()
        assert isinstance(body["error"], str) and body["error"]
        assert isinstance(body["detail"], str) and body["detail"]


def test_unknown_parameter_suggests_the_right_one(api: Api) -> None:
    audited = len(api.services.audit.since())
    r = api.post("/api/v1/reload", params={"dryrun": "true"})
    assert r.status_code == 400
    assert "Did you mean `dry_run`?" in r.json()["detail"]
    assert len(api.services.audit.since()) == audited  # refused before anything ran


def test_the_token_never_appears_in_responses(api: Api) -> None:
    r = api.get("/api/v1/processes", token="not-the-token-" + TOKENS["admin"])
    assert r.status_code == 401
    assert TOKENS["admin"] not in r.text
