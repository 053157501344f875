"""web survey: failed link look-ups, shared by every worker for the rate limit

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "guess",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_key", sa.String(length=32), nullable=False),
        sa.Column("at", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guess")),
    )
    with op.batch_alter_table("guess", schema=None) as batch_op:
        batch_op.create_index("ix_guess_client_key_at", ["client_key", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_guess_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("guess", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guess_at"))
        batch_op.drop_index("ix_guess_client_key_at")
    op.drop_table("guess")
