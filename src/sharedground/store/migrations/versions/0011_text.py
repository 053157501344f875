"""text: sources (comments, transcripts), coding frames, codes, coders and codings

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "text_source",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=True),
        sa.Column("response_id", sa.Integer(), nullable=True),
        sa.Column("item_id", sa.String(length=64), nullable=True),
        sa.Column("role", sa.String(length=64), nullable=True),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("attributes", sa.JSON(), nullable=False),
        sa.Column("content", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(["wave_id"], ["wave.id"], name=op.f("fk_text_source_wave_id_wave")),
        sa.ForeignKeyConstraint(
            ["response_id"], ["response.id"], name=op.f("fk_text_source_response_id_response")
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_text_source_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_source")),
        sa.UniqueConstraint("guid", name=op.f("uq_text_source_guid")),
        sa.UniqueConstraint("response_id", "item_id", name="uq_text_source_response_item"),
    )
    op.create_index(op.f("ix_text_source_wave_id"), "text_source", ["wave_id"])
    op.create_table(
        "code_frame",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_code_frame")),
        sa.UniqueConstraint("key", "version", name="uq_code_frame_key_version"),
    )
    op.create_table(
        "text_code",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("frame_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("example", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["frame_id"], ["code_frame.id"], name=op.f("fk_text_code_frame_id_code_frame")
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"], ["text_code.id"], name=op.f("fk_text_code_parent_id_text_code")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_text_code")),
        sa.UniqueConstraint("frame_id", "key", name="uq_text_code_frame_key"),
    )
    op.create_index(op.f("ix_text_code_frame_id"), "text_code", ["frame_id"])
    op.create_table(
        "coder",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coder")),
        sa.UniqueConstraint("name", name=op.f("uq_coder_name")),
        sa.UniqueConstraint("guid", name=op.f("uq_coder_guid")),
    )
    op.create_table(
        "coding",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("code_id", sa.Integer(), nullable=False),
        sa.Column("coder_id", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=True),
        sa.Column("end", sa.Integer(), nullable=True),
        sa.Column("memo", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), server_default=sa.func.now(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"], ["text_source.id"], name=op.f("fk_coding_source_id_text_source")
        ),
        sa.ForeignKeyConstraint(
            ["code_id"], ["text_code.id"], name=op.f("fk_coding_code_id_text_code")
        ),
        sa.ForeignKeyConstraint(["coder_id"], ["coder.id"], name=op.f("fk_coding_coder_id_coder")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coding")),
        sa.UniqueConstraint(
            "source_id", "code_id", "coder_id", "start", "end", name="uq_coding_span"
        ),
    )
    for column in ("source_id", "code_id", "coder_id"):
        op.create_index(op.f(f"ix_coding_{column}"), "coding", [column])


def downgrade() -> None:
    op.drop_table("coding")
    op.drop_table("coder")
    op.drop_table("text_code")
    op.drop_table("code_frame")
    op.drop_table("text_source")
