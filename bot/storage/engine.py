"""The SQLAlchemy engine a configuration names: PostgreSQL (psycopg 3) when `[storage] url`
or SUPBOT_DATABASE_URL is set, else the SQLite file the runtime Store uses."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url

from bot.config import StorageSettings
from bot.state import DB_NAME
from bot.storage.urls import display_url, with_password

DRIVER = "postgresql+psycopg"


@dataclass(frozen=True)
class Database:
    """Where the state is: the engine, its kind and the URL as it may be shown."""

    engine: Engine
    postgresql: bool
    shown: str  # the URL with its password masked
    password: str | None  # to mask it in error messages too

    @property
    def kind(self) -> str:
        return "postgresql" if self.postgresql else "sqlite"


def database_url(storage: StorageSettings) -> str:
    """The full URL (password included: never print it; `display_url()` is for showing)."""
    if storage.url is None:
        return f"sqlite:///{storage.dir / DB_NAME}"
    url = make_url(with_password(storage.url, storage.password))
    return url.set(drivername=DRIVER).render_as_string(hide_password=False)


def open_database(storage: StorageSettings) -> Database:
    url = database_url(storage)
    if storage.url is None:
        storage.dir.mkdir(parents=True, exist_ok=True)
        # As bot/state.py: wait for another process's write instead of failing at once.
        engine = create_engine(url, connect_args={"timeout": 30})
    else:
        engine = create_engine(url, pool_pre_ping=True, connect_args={"connect_timeout": 10})
    password = make_url(url).password
    return Database(engine, storage.url is not None, display_url(url), password)
