"""Alembic's scripts for the state schema: env.py (how Alembic connects) and versions/ (one
file per schema version). bot/storage/migrate.py runs them."""
