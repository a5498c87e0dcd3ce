"""0006 agents: jobs and commands run by the agent of another node (`supbot agent`).

- job_runs.node, job_requests.node: which node's agent runs it ('' = the scheduler's host);
- command_runs: an allow-listed command addressed to a node, with its streamed output.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

EMPTY, ZERO = sa.text("''"), sa.text("0")


def upgrade() -> None:
    # Plain ADD COLUMN (not batch mode): SQLite keeps these tables' AUTOINCREMENT.
    for table in ("job_runs", "job_requests"):
        op.add_column(table, sa.Column("node", sa.Text(), nullable=False, server_default=EMPTY))
    row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "command_runs",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("node", sa.Text(), nullable=False),
        sa.Column("command", sa.Text(), nullable=False),
        sa.Column("args", sa.Text(), nullable=False, server_default=sa.text("'[]'")),
        sa.Column("actor", sa.Text(), nullable=False, server_default=EMPTY),
        sa.Column("state", sa.Text(), nullable=False, server_default=sa.text("'pending'")),
        sa.Column("requested", sa.Float(), nullable=False),
        sa.Column("started", sa.Float()),
        sa.Column("ended", sa.Float()),
        sa.Column("exit_code", sa.Integer()),
        sa.Column("duration", sa.Float(), nullable=False, server_default=ZERO),
        sa.Column("output", sa.Text(), nullable=False, server_default=EMPTY),
        sa.Column("error", sa.Text(), nullable=False, server_default=EMPTY),
        sa.Column("agent", sa.Text(), nullable=False, server_default=EMPTY),
        sa.Column("lease_until", sa.Float(), nullable=False, server_default=ZERO),
        sqlite_autoincrement=True,
    )
    op.create_index("command_runs_pending", "command_runs", ["node", "state"])


def downgrade() -> None:
    op.drop_index("command_runs_pending", "command_runs")
    op.drop_table("command_runs")
    for table in ("job_requests", "job_runs"):
        op.drop_column(table, "node")
