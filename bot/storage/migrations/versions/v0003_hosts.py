"""0003 hosts: what a fleet sharing one database needs to judge owners on other hosts.

- heartbeats: `started` (the owner's process start time) and `lease_until` (database time);
- job_runs: `lock_key` and `slot_key`, unique, so a job's lock and a scheduled slot can be held
  by one run only, whichever host asks (a constraint, not only a check), and `lease_until`;
- leases: named roles held by one process at a time (singleton loops).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ZERO = sa.text("0")


def upgrade() -> None:
    # Plain ADD COLUMN on both engines. Not batch mode: on SQLite it rebuilds the table, and the
    # rebuilt job_runs lost AUTOINCREMENT (and its sqlite_sequence row), so ids of deleted runs
    # could come back.
    beats: list[sa.Column[Any]] = [
        sa.Column("started", sa.Float(), nullable=False, server_default=ZERO),
        sa.Column("lease_until", sa.Float(), nullable=False, server_default=ZERO),
    ]
    runs: list[sa.Column[Any]] = [
        sa.Column("lock_key", sa.Text()),
        sa.Column("slot_key", sa.Text()),
        sa.Column("lease_until", sa.Float(), nullable=False, server_default=ZERO),
    ]
    for column in beats:
        op.add_column("heartbeats", column)
    for column in runs:
        op.add_column("job_runs", column)
    op.create_index("job_runs_lock", "job_runs", ["lock_key"], unique=True)
    op.create_index("job_runs_slot", "job_runs", ["slot_key"], unique=True)
    op.create_table(
        "leases",
        sa.Column("name", sa.Text(), primary_key=True),
        sa.Column("holder", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired", sa.Float(), nullable=False),
        sa.Column("until", sa.Float(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("leases")
    op.drop_index("job_runs_slot", "job_runs")
    op.drop_index("job_runs_lock", "job_runs")
    for name in ("lease_until", "slot_key", "lock_key"):
        op.drop_column("job_runs", name)  # SQLite ≥ 3.35 drops a column in place
    for name in ("lease_until", "started"):
        op.drop_column("heartbeats", name)
