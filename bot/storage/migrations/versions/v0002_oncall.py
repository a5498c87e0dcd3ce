"""0002 on call: who acknowledged an incident and when, its escalation level, a closing note.

Adds four columns to alert_incidents when they are missing (supbot's own start-up may have
added them already to a SQLite state, see bot/alerts/storage/schema.py ADDED).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _columns() -> tuple[sa.Column[object], ...]:
    """New Column objects each time: a Column belongs to one table once added."""
    return (
        sa.Column("acked_by", sa.Text()),
        sa.Column("acked_at", sa.Float()),
        sa.Column("escalated", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("note", sa.Text(), nullable=False, server_default=sa.text("''")),
    )


def _present() -> set[str]:
    return {c["name"] for c in sa.inspect(op.get_bind()).get_columns("alert_incidents")}


def upgrade() -> None:
    present = _present()
    for column in _columns():
        if column.name not in present:
            op.add_column("alert_incidents", column)


def downgrade() -> None:
    present = _present()
    for column in reversed(_columns()):
        if column.name in present:
            op.drop_column("alert_incidents", column.name)
