"""initiatives: the register, kinds, stage and progress history, cohorts, pairs, pulse waves

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "initiative",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("directorates", sa.JSON(), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("planned_start", sa.Date(), nullable=True),
        sa.Column("actual_start", sa.Date(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("stage_reason", sa.Text(), nullable=True),
        sa.Column("progress", sa.Double(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_initiative_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative")),
    )
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_organisation_id"), ["organisation_id"], unique=False
        )

    op.create_table(
        "initiative_kind",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=300), nullable=False),
        sa.Column("groups_people", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_initiative_kind_organisation_id_organisation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_kind")),
        sa.UniqueConstraint("organisation_id", "key", name="uq_initiative_kind_organisation_key"),
    )
    op.create_table(
        "initiative_progress",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("score", sa.Double(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_initiative_progress_initiative_id_initiative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_progress")),
    )
    with op.batch_alter_table("initiative_progress", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_progress_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "initiative_stage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_initiative_stage_initiative_id_initiative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_stage")),
    )
    with op.batch_alter_table("initiative_stage", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_stage_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "pulse_timepoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("timepoint", sa.String(length=16), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_pulse_timepoint_initiative_id_initiative"),
        ),
        sa.ForeignKeyConstraint(
            ["wave_id"], ["wave.id"], name=op.f("fk_pulse_timepoint_wave_id_wave")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pulse_timepoint")),
        sa.UniqueConstraint("initiative_id", "timepoint", name="uq_pulse_timepoint_initiative"),
        sa.UniqueConstraint("wave_id", name=op.f("uq_pulse_timepoint_wave_id")),
    )
    with op.batch_alter_table("pulse_timepoint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pulse_timepoint_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "participant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("side", sa.String(length=16), nullable=False),
        sa.Column("role", sa.String(length=64), nullable=True),
        sa.Column("directorate", sa.String(length=200), nullable=True),
        sa.Column("grade", sa.String(length=100), nullable=True),
        sa.Column("reports_to", sa.String(length=320), nullable=True),
        sa.Column("prefers", sa.JSON(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contact.id"], name=op.f("fk_participant_contact_id_contact")
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_participant_initiative_id_initiative"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_participant")),
        sa.UniqueConstraint("initiative_id", "email", name="uq_participant_initiative_email"),
    )
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_participant_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "initiative_pair",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("initiative_id", sa.Integer(), nullable=False),
        sa.Column("doctor_id", sa.Integer(), nullable=False),
        sa.Column("manager_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["doctor_id"], ["participant.id"], name=op.f("fk_initiative_pair_doctor_id_participant")
        ),
        sa.ForeignKeyConstraint(
            ["initiative_id"],
            ["initiative.id"],
            name=op.f("fk_initiative_pair_initiative_id_initiative"),
        ),
        sa.ForeignKeyConstraint(
            ["manager_id"],
            ["participant.id"],
            name=op.f("fk_initiative_pair_manager_id_participant"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_initiative_pair")),
        sa.UniqueConstraint("initiative_id", "doctor_id", name="uq_initiative_pair_doctor"),
        sa.UniqueConstraint("initiative_id", "manager_id", name="uq_initiative_pair_manager"),
    )
    with op.batch_alter_table("initiative_pair", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_initiative_pair_initiative_id"), ["initiative_id"], unique=False
        )

    op.create_table(
        "participant_code",
        sa.Column("participant_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["participant_id"],
            ["participant.id"],
            name=op.f("fk_participant_code_participant_id_participant"),
        ),
        sa.PrimaryKeyConstraint("participant_id", name=op.f("pk_participant_code")),
        sa.UniqueConstraint("code", name=op.f("uq_participant_code_code")),
    )
    op.create_table(
        "pair_activity",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pair_id", sa.Integer(), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("attended", sa.JSON(), nullable=False),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pair_id"],
            ["initiative_pair.id"],
            name=op.f("fk_pair_activity_pair_id_initiative_pair"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pair_activity")),
    )
    with op.batch_alter_table("pair_activity", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pair_activity_pair_id"), ["pair_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("pair_activity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pair_activity_pair_id"))

    op.drop_table("pair_activity")
    op.drop_table("participant_code")
    with op.batch_alter_table("initiative_pair", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_pair_initiative_id"))

    op.drop_table("initiative_pair")
    with op.batch_alter_table("participant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_participant_initiative_id"))

    op.drop_table("participant")
    with op.batch_alter_table("pulse_timepoint", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pulse_timepoint_initiative_id"))

    op.drop_table("pulse_timepoint")
    with op.batch_alter_table("initiative_stage", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_stage_initiative_id"))

    op.drop_table("initiative_stage")
    with op.batch_alter_table("initiative_progress", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_progress_initiative_id"))

    op.drop_table("initiative_progress")
    op.drop_table("initiative_kind")
    with op.batch_alter_table("initiative", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_initiative_organisation_id"))

    op.drop_table("initiative")
