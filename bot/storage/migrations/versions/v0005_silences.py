"""0005 silences and deploys: silences (set by hand or opened by a [[silences]] window), the
crashes counted per target during one, and deploy records.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

EMPTY, ZERO = sa.text("''"), sa.text("0")


def _row_id() -> sa.types.TypeEngine[int]:
    return sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "silences",
        sa.Column("id", _row_id(), primary_key=True, autoincrement=True),
        sa.Column("match", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False, server_default=EMPTY),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("created", sa.Float(), nullable=False),
        sa.Column("until", sa.Float(), nullable=False),
        sa.Column("ended_by", sa.Text(), nullable=False, server_default=EMPTY),
        sa.Column("summarized", sa.Integer(), nullable=False, server_default=ZERO),
        sa.Column("window", sa.Text()),
        sqlite_autoincrement=True,
    )
    op.create_index("silences_until", "silences", ["summarized", "until"])
    op.create_index("silences_window", "silences", ["window"], unique=True)
    op.create_table(
        "silence_hits",
        sa.Column("silence", _row_id(), primary_key=True),
        sa.Column("node", sa.Text(), primary_key=True),
        sa.Column("process", sa.Text(), primary_key=True),
        sa.Column("crashes", sa.Integer(), nullable=False, server_default=ZERO),
    )
    op.create_table(
        "deploys",
        sa.Column("id", _row_id(), primary_key=True, autoincrement=True),
        sa.Column("what", sa.Text(), nullable=False),
        sa.Column("version", sa.Text(), nullable=False),
        sa.Column("by", sa.Text(), nullable=False, server_default=EMPTY),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("deploys_at", "deploys", ["at"])


def downgrade() -> None:
    op.drop_index("deploys_at", "deploys")
    op.drop_table("deploys")
    op.drop_table("silence_hits")
    op.drop_index("silences_window", "silences")
    op.drop_index("silences_until", "silences")
    op.drop_table("silences")
