"""anonymous waves: completed questionnaires held until released to the responses in batches

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "held_response",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("mode", sa.String(length=16), nullable=False),
        sa.Column("submitted_on", sa.Date(), nullable=True),
        sa.Column(
            "answers",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_held_response_organisation_id_organisation"),
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["wave.id"], name=op.f("fk_held_response_wave_id_wave")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_held_response")),
    )
    with op.batch_alter_table("held_response", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_held_response_wave_id"), ["wave_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("held_response", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_held_response_wave_id"))
    op.drop_table("held_response")
