"""0007 samples: memory and CPU of each node's processes, sampled on the node's own host
(`supbot listen`, or an agent), so `info` and `status` show them for remote nodes too.

One row per node and round (the processes as JSON, their totals as columns): 5,000 processes
sampled every 10 s are 20 rows a round, not 5,000.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    row_id = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table(
        "node_samples",
        sa.Column("id", row_id, primary_key=True, autoincrement=True),
        sa.Column("node", sa.Text(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("rss", sa.BigInteger(), nullable=False),
        sa.Column("cpu", sa.Float(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("processes", sa.Text(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("node_samples_node", "node_samples", ["node", "at"])
    op.create_index("node_samples_at", "node_samples", ["at"])


def downgrade() -> None:
    op.drop_table("node_samples")
