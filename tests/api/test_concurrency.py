"""A slow stop (TERM ignored, stopwaitsecs=2) does not block other requests."""

from __future__ import annotations

import threading

import requests

from tests.api.conftest import Api
from tests.conftest import wait_until


def test_slow_stop_does_not_block_other_requests(api: Api) -> None:
    done: list[requests.Response] = []
    stopper = threading.Thread(
        target=lambda: done.append(requests.post(
            api.base + "/api/v1/processes/stubborn/stop",
            headers={"Authorization": "Bearer tok-deploy-0123456789"},
            timeout=30,
        ))
    )  # fmt: skip
    stopper.start()
    try:
        wait_until(
            lambda: api.get("/api/v1/processes/stubborn").json()["process"]["state"] == "STOPPING",
            10,
        )
        # the stop is still in flight: other requests are answered meanwhile
        assert api.get("/api/v1/processes/web/logs?lines=5").status_code == 200
        assert api.get("/api/v1/processes?fresh=true").status_code == 200
        assert not done, "the stop should still be waiting for stopwaitsecs"
        stopper.join(30)
        assert done[0].status_code == 200, done[0].text
        assert done[0].json()["outcomes"][0]["state"] == "STOPPED"
    finally:
        stopper.join(30)
        api.post("/api/v1/processes/stubborn/start", token="deploy")
