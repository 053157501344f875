"""background jobs: the job table and the task queue's own tables (huey's SQL storage)

Revision ID: 0009
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("wave_id", sa.Integer(), nullable=True),
        sa.Column("trust", sa.String(length=32), nullable=True),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("summary", sa.Text(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("file_name", sa.String(length=200), nullable=True),
        sa.Column("worker", sa.String(length=200), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["wave_id"], ["wave.id"], name=op.f("fk_job_wave_id_wave")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_job")),
    )
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_job_state"), ["state"], unique=False)
        batch_op.create_index(batch_op.f("ix_job_wave_id"), ["wave_id"], unique=False)
    # huey's SqlStorage tables (huey.contrib.sql_huey), under names of our own; the column
    # names and types are the ones its peewee models expect.
    op.create_table(
        "huey_kv",
        sa.Column("queue", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("queue", "key", name=op.f("pk_huey_kv")),
    )
    op.create_table(
        "huey_schedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("timestamp", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_huey_schedule")),
    )
    op.create_index("ix_huey_schedule_queue_timestamp", "huey_schedule", ["queue", "timestamp"])
    op.create_table(
        "huey_task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("queue", sa.String(length=255), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("priority", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_huey_task")),
    )
    op.create_index("ix_huey_task_priority_id", "huey_task", ["priority", "id"])
    op.create_table(
        "huey_counter",
        sa.Column("queue", sa.String(length=255), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("queue", "key", name=op.f("pk_huey_counter")),
    )


def downgrade() -> None:
    op.drop_table("huey_counter")
    op.drop_index("ix_huey_task_priority_id", table_name="huey_task")
    op.drop_table("huey_task")
    op.drop_index("ix_huey_schedule_queue_timestamp", table_name="huey_schedule")
    op.drop_table("huey_schedule")
    op.drop_table("huey_kv")
    with op.batch_alter_table("job", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_job_wave_id"))
        batch_op.drop_index(batch_op.f("ix_job_state"))
    op.drop_table("job")
