"""Fixtures of the storage tests: a real PostgreSQL server (one per session / xdist worker)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.storage.postgres import PostgresServer


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    print(f"\nPostgreSQL test server started in {server.started_in:.2f} s")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres.database()
