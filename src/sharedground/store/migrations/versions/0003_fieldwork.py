"""fieldwork: contact completion, personal links, messages, postal draw, paper entry, admin

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_ANSWERS = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.add_column(sa.Column("completed_on", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("completed_mode", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("bounced_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("serial", sa.String(length=16), nullable=True))
        batch_op.create_unique_constraint(batch_op.f("uq_contact_serial"), ["serial"])

    op.create_table(
        "personal_link",
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("link_id", sa.Integer(), nullable=False),
        sa.Column("sealed_token", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_personal_link_contact_id_contact")
        ),
        sa.ForeignKeyConstraint(
            ["link_id"], ["link.id"], name=op.f("fk_personal_link_link_id_link")
        ),
        sa.PrimaryKeyConstraint("contact_id", name=op.f("pk_personal_link")),
        sa.UniqueConstraint("link_id", name=op.f("uq_personal_link_link_id")),
    )
    op.create_table(
        "message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("address", sa.String(length=320), nullable=False),
        sa.Column("message_id", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["wave_id"], ["wave.id"], name=op.f("fk_message_wave_id_wave")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_message_contact_id_contact")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message")),
        sa.UniqueConstraint("contact_id", "kind", name="uq_message_contact_kind"),
    )
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_message_wave_id"), ["wave_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_message_contact_id"), ["contact_id"], unique=False)

    op.create_table(
        "postal_draw",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=False),
        sa.Column("fractions", sa.JSON(), nullable=False),
        sa.Column("exclude_completed", sa.Boolean(), nullable=False),
        sa.Column("sampled", sa.Integer(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["wave_id"], ["wave.id"], name=op.f("fk_postal_draw_wave_id_wave")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_postal_draw")),
        sa.UniqueConstraint("wave_id", name=op.f("uq_postal_draw_wave_id")),
    )
    op.create_table(
        "paper_return",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("serial", sa.String(length=16), nullable=False),
        sa.Column("received_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duplicate_of", sa.String(length=16), nullable=True),
        sa.Column("answers", _ANSWERS, nullable=True),
        sa.Column("reviewer", sa.String(length=100), nullable=True),
        sa.Column("reconciled_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["wave.id"], name=op.f("fk_paper_return_wave_id_wave")
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_paper_return_contact_id_contact")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_return")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_paper_return_contact_id")),
        sa.UniqueConstraint("serial", name=op.f("uq_paper_return_serial")),
    )
    with op.batch_alter_table("paper_return", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_return_wave_id"), ["wave_id"], unique=False)

    op.create_table(
        "paper_keying",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("return_id", sa.Integer(), nullable=False),
        sa.Column("keying", sa.Integer(), nullable=False),
        sa.Column("keyer", sa.String(length=100), nullable=False),
        sa.Column("keyed_at", sa.DateTime(), nullable=False),
        sa.Column("answers", _ANSWERS, nullable=False),
        sa.ForeignKeyConstraint(
            ["return_id"], ["paper_return.id"], name=op.f("fk_paper_keying_return_id_paper_return")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_paper_keying")),
        sa.UniqueConstraint("return_id", "keying", name="uq_paper_keying_return"),
    )
    with op.batch_alter_table("paper_keying", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_paper_keying_return_id"), ["return_id"], unique=False)

    op.create_table(
        "admin_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=100), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("failed_logins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_admin_user_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_admin_user")),
        sa.UniqueConstraint("username", name=op.f("uq_admin_user_username")),
    )
    op.create_table(
        "admin_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["admin_user.id"], name=op.f("fk_admin_session_user_id_admin_user")
        ),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_admin_session")),
    )
    with op.batch_alter_table("admin_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_admin_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("target", sa.String(length=300), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
    op.drop_table("audit_log")
    with op.batch_alter_table("admin_session", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_admin_session_user_id"))
    op.drop_table("admin_session")
    op.drop_table("admin_user")
    with op.batch_alter_table("paper_keying", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_keying_return_id"))
    op.drop_table("paper_keying")
    with op.batch_alter_table("paper_return", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_paper_return_wave_id"))
    op.drop_table("paper_return")
    op.drop_table("postal_draw")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_message_contact_id"))
        batch_op.drop_index(batch_op.f("ix_message_wave_id"))
    op.drop_table("message")
    op.drop_table("personal_link")
    with op.batch_alter_table("contact", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_contact_serial"), type_="unique")
        batch_op.drop_column("serial")
        batch_op.drop_column("bounced_at")
        batch_op.drop_column("completed_mode")
        batch_op.drop_column("completed_on")
