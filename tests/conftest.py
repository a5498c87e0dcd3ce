"""Shared fixtures: a real supervisord in a temp dir (never a mock of its API)."""

from __future__ import annotations

import socket
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.config import Settings, StorageSettings
from bot.config_load import parse_settings
from bot.embedded import EmbeddedSupervisor
from bot.services import Services
from bot.state import Store
from bot.wiring import install_renderers

if TYPE_CHECKING:
    from tests.storage.postgres import PostgresServer

PY = sys.executable

# Small, fast sample programs for tests. `startsecs=0` where the test does not care.
# supervisord expands %(…)s in commands: a literal % is written %%.
PROGRAMS = f"""
[program:web]
command={PY} -u -c "import time,sys;[(print('web line %%d café €' %% i, flush=True), print('web err %%d' %% i, file=sys.stderr, flush=True), time.sleep(0.2)) for i in range(100000)]"
startsecs=1
stopwaitsecs=5

[program:worker]
command={PY} -u -c "import time;[(print('tick', flush=True), time.sleep(0.5)) for i in range(100000)]"
process_name=%(program_name)s_%(process_num)02d
numprocs=2
startsecs=0

[program:broken]
command={PY} -c "import sys; print('boom: cannot connect to db', file=sys.stderr); sys.exit(3)"
autostart=false
startsecs=1
startretries=0

[program:idle]
command={PY} -c "import time; time.sleep(100000)"
autostart=false
startsecs=0
"""


@pytest.fixture(autouse=True, scope="session")
def renderers() -> None:
    """Every reply type's renderers, installed as `supbot` and `Services.build` do at start-up
    (pure rendering tests build no Services)."""
    install_renderers()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def short_tmp() -> Path:
    # unix socket paths are limited to ~107 bytes: keep the directory short.
    return Path(tempfile.mkdtemp(prefix="sb-", dir="/tmp"))


@pytest.fixture
def supervisor() -> Iterator[EmbeddedSupervisor]:
    sv = start_sample(http=True)
    yield sv
    sv.stop()


def start_sample(
    programs: str = PROGRAMS, running: int = 3, http: bool = False
) -> EmbeddedSupervisor:
    """A started supervisord with `programs`, once at least `running` processes are RUNNING."""
    from bot.supervisor.client import NodeClient

    sv = EmbeddedSupervisor(short_tmp() / "sv", programs, http_port=free_port() if http else None)
    sv.start()
    client = NodeClient(sv.node())
    wait_until(lambda: sum(p.state == "RUNNING" for p in client.all_processes()) >= running, 15)
    return sv


def wait_until(predicate: Callable[[], object], seconds: float, interval: float = 0.05) -> None:
    """Poll with a deadline (never a bare sleep)."""
    deadline = time.monotonic() + seconds
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {seconds}s")
        time.sleep(interval)


def make_settings(tmp: Path, toml: str, env: dict[str, str] | None = None) -> Settings:
    import tomllib

    source = tmp / "supbot.toml"
    source.write_text(toml)
    return parse_settings(tomllib.loads(toml), source, env or {})


def basic_toml(sv: EmbeddedSupervisor, extra: str = "") -> str:
    return f"""
[storage]
dir = "state"

[[nodes]]
name = "local"
url = "{sv.url}"
timeout = "3s"

[[channels]]
id = "C0OPS"
programs = ["*"]
jobs = ["*"]
commands = ["*"]
critical = ["web"]
viewers = ["*"]
operators = ["U0OPER"]
admins = ["U0ADMIN"]

[[channels]]
id = "C0WEB"
programs = ["web"]
viewers = ["*"]
operators = ["U0WEBOP"]

[console]
user = "U0ADMIN"
channel = "C0OPS"
{extra}
"""


@pytest.fixture
def services(supervisor: EmbeddedSupervisor, tmp_path: Path) -> Iterator[Services]:
    svc = Services.build(make_settings(tmp_path, basic_toml(supervisor)))
    yield svc
    svc.close()


def break_audit(target: Services | Store) -> None:
    """The audit table refuses writes the way a full disk does (SQLITE_FULL's message): a
    trigger that raises, on either engine."""
    from sqlalchemy import text

    store = target if isinstance(target, Store) else target.store
    if store.postgresql:
        ddl = [
            "CREATE FUNCTION audit_full() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'database or disk is full'; END $$",
            "CREATE TRIGGER audit_full BEFORE INSERT ON audit "
            "FOR EACH ROW EXECUTE FUNCTION audit_full()",
        ]
    else:
        ddl = [
            "CREATE TRIGGER audit_full BEFORE INSERT ON audit "
            "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
        ]
    with store.connect() as db:
        for statement in ddl:
            db.execute(text(statement))


# --- the state on both engines -------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """A real PostgreSQL server for the session (one per xdist worker)."""
    from tests.storage.postgres import PostgresServer

    server = PostgresServer()
    server.start()
    print(f"\nPostgreSQL test server started in {server.started_in:.2f} s")
    yield server
    server.stop()


@pytest.fixture
def pg_url(postgres: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres.database()


ENGINES = ("sqlite", "postgresql")


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    """Run the test once per engine of the state (SQLite, a real PostgreSQL)."""
    return str(request.param)


def storage_settings(engine: str, tmp: Path, request: pytest.FixtureRequest) -> StorageSettings:
    """`[storage]` for `engine`: a directory under `tmp`, or a fresh PostgreSQL database."""
    url = None
    if engine == "postgresql":
        url = request.getfixturevalue("postgres").database()
    return StorageSettings(
        dir=tmp / "state", retention=90 * 86400.0, url=url, password=None, auto_upgrade=True
    )


def storage_toml(settings: StorageSettings) -> str:
    """The `[storage]` table of a config file for `settings`."""
    if settings.url is None:
        return f'[storage]\ndir = "{settings.dir}"\n'
    return f'[storage]\ndir = "{settings.dir}"\nurl = "{settings.url}"\nauto_upgrade = true\n'


@pytest.fixture
def state_store(engine: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Store]:
    """A Store on a new, empty state of each engine."""
    store = Store(storage_settings(engine, tmp_path, request))
    yield store
    store.close()
