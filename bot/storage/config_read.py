"""`[storage]`: the SQLite directory, or a PostgreSQL URL whose password comes from the
environment. Problems name the key and never show a password."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.config import StorageSettings
from bot.config_reader import Reader, env_string
from bot.storage.urls import display_url, problem

URL_ENV = "SUPBOT_DATABASE_URL"


def read_storage(r: Reader, source: Path, env: Mapping[str, str]) -> StorageSettings:
    sdir = Path(r.text("dir", ".supbot"))
    url, password = _url(r, env)
    return StorageSettings(
        dir=sdir if sdir.is_absolute() else (source.parent / sdir).resolve(),
        retention=r.duration("retention", 90 * 86400.0),
        url=url,
        password=password,
        # Several hosts share a PostgreSQL schema: who changes it is an operator's choice.
        auto_upgrade=r.get("auto_upgrade", bool, url is None),
    )


def _url(r: Reader, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """The PostgreSQL URL and its password; SUPBOT_DATABASE_URL wins over the file's `url`."""
    password = env_string(env, r, "password_env", required=False)
    if env.get(URL_ENV):
        url: str = env[URL_ENV]
        wrong = problem(url)
        if wrong:
            r.problem("url", f"{URL_ENV}={display_url(url)}: {wrong}")
            return None, None
        return url, password
    url = r.text("url")
    if url is None:
        if password:
            r.problem("password_env", "is set but there is no `url` to use it with")
        return None, None
    wrong = problem(url)
    if wrong:
        r.problem("url", f"{display_url(url)}: {wrong}")
    elif display_url(url) != url:
        r.problem("url", "holds a password: put it in the environment and name it in password_env")
    return (None, None) if wrong or display_url(url) != url else (url, password)
