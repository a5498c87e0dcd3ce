"""`supbot db upgrade|status|copy`: the state schema's version, on SQLite or PostgreSQL, and
moving a SQLite state into PostgreSQL. They read the configuration only (no supervisord, no
Slack)."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import TYPE_CHECKING

from bot.cli import CliCommand
from bot.config_load import load_settings
from bot.errors import ExitStatus

if TYPE_CHECKING:
    from bot.config import Settings
    from bot.storage.engine import Database


def _configure(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("db", help="the state database: schema version and upgrades")
    actions = p.add_subparsers(dest="db_action", required=True, metavar="ACTION")
    actions.add_parser("upgrade", help="bring the schema to this version's (idempotent)")
    actions.add_parser("status", help="engine, URL and schema version: current and newest")
    copy = actions.add_parser(
        "copy", help="copy the SQLite state ([storage] dir) into PostgreSQL, every row"
    )
    copy.add_argument(
        "--to",
        metavar="URL",
        help="postgresql://user@host/database (default: the configured [storage] url)",
    )
    copy.add_argument(
        "--password-env", metavar="NAME", help="the environment variable holding its password"
    )
    copy.add_argument(
        "--force", action="store_true", help="replace the rows the target already holds"
    )


def _run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from bot.storage.engine import open_database
    from bot.storage.urls import hide

    # Alembic's INFO lines (plugins, "Context impl") say nothing a user needs: ours do.
    logging.getLogger("alembic").setLevel(logging.WARNING)
    settings = load_settings(args.config)
    if args.db_action == "copy":
        from bot.storage.copy_cli import copy_command

        return copy_command(args, settings.storage)
    db = open_database(settings.storage)
    try:
        if args.db_action == "upgrade":
            return _upgrade(db)
        return _status(db, settings, args.config)
    except SQLAlchemyError as exc:
        reason = hide(str(getattr(exc, "orig", None) or exc).strip().splitlines()[0], db.password)
        print(f"supbot: state database {db.shown}: {reason}", file=sys.stderr)
        return ExitStatus.ERROR
    finally:
        db.engine.dispose()


def _upgrade(db: Database) -> int:
    from bot.storage.migrate import upgrade

    before, after = upgrade(db)
    if before.current == after.current:
        print(f"{db.kind} {db.shown}: schema up to date ({after.current})")
    else:
        print(f"{db.kind} {db.shown}: schema {before.current or 'none'} → {after.current}")
    return ExitStatus.OK


def _status(db: Database, settings: Settings, config: str | None) -> int:
    from bot.storage.migrate import status

    found = status(db)
    print(f"engine: {db.kind}")
    print(f"url: {db.shown}")
    print(f"schema: {found.current or 'none'} (newest: {found.head})")
    print(f"auto_upgrade: {'on' if settings.storage.auto_upgrade else 'off'}")
    if found.up_to_date:
        return ExitStatus.OK
    where = f" --config {config}" if config else ""
    print(f"the schema is older than this supbot: run `supbot db upgrade{where}`", file=sys.stderr)
    return ExitStatus.ERROR


COMMANDS: dict[str, CliCommand] = {"db": (_configure, _run)}
