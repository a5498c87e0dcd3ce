"""Alembic executes this file to migrate (bot/storage/migrate.py hands it a connection in
`config.attributes`). Imported as a module (tools, tests) it finds no Alembic context and does
nothing."""

from __future__ import annotations

from alembic import context

from bot.storage.tables import metadata


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise SystemExit("run migrations with `supbot db upgrade`, not the alembic command")
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters by copying
    )
    with context.begin_transaction():
        context.run_migrations()


if getattr(context, "_proxy", None) is not None:  # run by Alembic, not imported
    run()
