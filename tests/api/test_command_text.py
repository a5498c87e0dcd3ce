"""Command arguments that are not plain text are a 400 naming the character, never a 500."""

from __future__ import annotations

import pytest

from tests.api.conftest import Api


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ('{"args": ["\\ud800"]}', "U+D800"),  # a lone surrogate, valid JSON
        ('{"args": ["users\\u202e"]}', "U+202E"),
        ('{"args": ["users\\u0000"]}', "never accepted"),
    ],
)
def test_arguments_that_are_not_plain_text_are_400(api: Api, raw: str, shown: str) -> None:
    r = api.post(
        "/api/v1/commands/cache-warm/run",
        token="deploy",
        data=raw,
        headers={"Content-Type": "application/json"},
    )
    assert r.status_code == 400, r.text
    assert r.json()["error"] == "bad_request" and shown in r.json()["detail"]
    refused = [e for e in api.audit("api:deploy") if e.outcome == "refused"]
    assert refused and refused[-1].target.startswith("cache-warm ")
