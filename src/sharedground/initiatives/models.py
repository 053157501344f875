"""The initiatives' tables (migration 0010), on the store's declarative base.

Kept beside the capability rather than in `store/schema.py` so the store never imports
initiatives (DESIGN: the new capabilities sit above the store). Participants (who takes
part) and their pseudonymous codes live in separate tables, and pulse answers are ordinary
responses keyed by the code alone: the answers table never points at a person.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from sharedground.store.schema import Base


class InitiativeKind(Base):
    """A kind an organisation added from its kinds file (built-in kinds are not stored)."""

    __tablename__ = "initiative_kind"
    __table_args__ = (
        UniqueConstraint("organisation_id", "key", name="uq_initiative_kind_organisation_key"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"))
    key: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(300))
    groups_people: Mapped[bool] = mapped_column(Boolean, default=False)


class Initiative(Base):
    """One initiative a trust runs (or plans) to improve doctor–manager relationships."""

    __tablename__ = "initiative"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    #: Named directorates; empty for the whole trust.
    directorates: Mapped[list[str]] = mapped_column(JSON)
    owner: Mapped[str | None] = mapped_column(String(200))
    planned_start: Mapped[dt.date | None] = mapped_column(Date)
    actual_start: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    stage: Mapped[str] = mapped_column(String(16))
    stage_reason: Mapped[str | None] = mapped_column(Text)
    progress: Mapped[float | None] = mapped_column(Double)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class InitiativeStage(Base):
    """One change of an initiative's stage: its history, never rewritten."""

    __tablename__ = "initiative_stage"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id"), index=True)
    stage: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    on: Mapped[dt.date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime)


class InitiativeProgress(Base):
    """One progress score on the IHI scale (0.5–5.0) as it was given on a day."""

    __tablename__ = "initiative_progress"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id"), index=True)
    score: Mapped[float] = mapped_column(Double)
    on: Mapped[dt.date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime)


class Participant(Base):
    """A person in an initiative's cohort. Their pulse answers never point here."""

    __tablename__ = "participant"
    __table_args__ = (
        UniqueConstraint("initiative_id", "email", name="uq_participant_initiative_email"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    #: `doctor` or `manager`.
    side: Mapped[str] = mapped_column(String(16))
    #: The instrument's role (medical_director, clinical_director, ...), when known.
    role: Mapped[str | None] = mapped_column(String(64))
    directorate: Mapped[str | None] = mapped_column(String(200))
    grade: Mapped[str | None] = mapped_column(String(100))
    #: The e-mail of this person's line manager, so nobody is paired with them.
    reports_to: Mapped[str | None] = mapped_column(String(320))
    #: E-mails of the people this person would like to be paired with.
    prefers: Mapped[list[str]] = mapped_column(JSON)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"))


class ParticipantCode(Base):
    """A participant's pseudonymous code, kept apart from the participant row.

    The code is the only key a pulse response carries; deleting this table's rows leaves
    the answers pairable (before with after) but no longer attributable to anyone.
    """

    __tablename__ = "participant_code"

    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)


class Pair(Base):
    """A doctor and a manager paired in an initiative: proposed, then confirmed by the lead."""

    __tablename__ = "initiative_pair"
    __table_args__ = (
        UniqueConstraint("initiative_id", "doctor_id", name="uq_initiative_pair_doctor"),
        UniqueConstraint("initiative_id", "manager_id", name="uq_initiative_pair_manager"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id"), index=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    manager_id: Mapped[int] = mapped_column(ForeignKey("participant.id"))
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PulseTimepoint(Base):
    """A wave of the `dmr-pulse` questionnaire sent to an initiative's cohort at one time."""

    __tablename__ = "pulse_timepoint"
    __table_args__ = (
        UniqueConstraint("initiative_id", "timepoint", name="uq_pulse_timepoint_initiative"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    initiative_id: Mapped[int] = mapped_column(ForeignKey("initiative.id"), index=True)
    #: before, after or follow_up.
    timepoint: Mapped[str] = mapped_column(String(16))
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), unique=True)
    due_on: Mapped[dt.date | None] = mapped_column(Date)


class PairActivity(Base):
    """A meeting, shadowing day, workshop or joint-project step a pair logged."""

    __tablename__ = "pair_activity"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    pair_id: Mapped[int] = mapped_column(ForeignKey("initiative_pair.id"), index=True)
    on: Mapped[dt.date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(32))
    #: Who attended: `doctor`, `manager` or both.
    attended: Mapped[list[str]] = mapped_column(JSON)
    minutes: Mapped[str | None] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(100))
    at: Mapped[dt.datetime] = mapped_column(DateTime)
