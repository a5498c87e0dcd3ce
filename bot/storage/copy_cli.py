"""`supbot db copy`: which SQLite state, which PostgreSQL, and what the user sees (per-table
counts; URLs with the password masked, never the password)."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from bot.config import StorageSettings
from bot.errors import ExitStatus
from bot.state import DB_NAME
from bot.storage.urls import display_url, problem

TO_EXAMPLE = "--to postgresql://user@host/database"


class Usage(Exception):
    """The command line does not name a target that can be used."""


def target_settings(args: argparse.Namespace, storage: StorageSettings) -> StorageSettings:
    """`--to` with the password from `--password-env`, else the configured PostgreSQL."""
    if args.to is None:
        if storage.url is None:
            raise Usage(f"name the PostgreSQL database to copy into: {TO_EXAMPLE}")
        return storage
    wrong = problem(args.to)
    if wrong:
        raise Usage(f"--to {display_url(args.to)}: {wrong}")
    if display_url(args.to) != args.to:
        raise Usage(
            "--to holds a password: put it in an environment variable and name it with "
            "--password-env NAME"
        )
    password = None
    if args.password_env:
        password = os.environ.get(args.password_env)
        if not password:
            raise Usage(f"--password-env {args.password_env}: that variable is not set")
    return replace(storage, url=args.to, password=password)


def copy_command(args: argparse.Namespace, storage: StorageSettings) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.storage.copy import Copied, CopyRefused, copy_state
    from bot.storage.engine import open_database
    from bot.storage.urls import hide

    try:
        target_storage = target_settings(args, storage)
    except Usage as exc:
        print(f"supbot: {exc}", file=sys.stderr)
        return ExitStatus.USAGE
    path = storage.dir / DB_NAME
    if not path.is_file():
        print(f"supbot: no SQLite state at {path}: nothing to copy", file=sys.stderr)
        return ExitStatus.USAGE
    source = open_database(replace(storage, url=None, password=None))
    target = open_database(target_storage)

    finished: list[Copied] = []

    def done(copied: Copied) -> None:
        finished.append(copied)
        print(f"  {copied.table}: {copied.rows} row{'' if copied.rows == 1 else 's'}", flush=True)

    print(f"copying {source.shown} → {target.shown}", flush=True)
    try:
        copied = copy_state(source, target, args.force, done)
    except CopyRefused as exc:
        print(f"supbot: {exc}", file=sys.stderr)
        return ExitStatus.ERROR
    except SQLAlchemyError as exc:
        reason = hide(
            str(getattr(exc, "orig", None) or exc).strip().splitlines()[0], target.password
        )
        # Each table is its own transaction: those listed above are in, the rest are not.
        again = "; the tables listed above are copied: run again with --force" if finished else ""
        print(f"supbot: copy to {target.shown} stopped: {reason}{again}", file=sys.stderr)
        return ExitStatus.ERROR
    finally:
        source.engine.dispose()
        target.engine.dispose()
    total = sum(c.rows for c in copied)
    print(f"copied {total} rows in {len(copied)} tables; new ids continue past the copied ones")
    return ExitStatus.OK
