"""The database schema (SQLAlchemy 2 declarative models).

Who was asked (contacts) and what was said (responses) live in separate tables with no
foreign key from a response to a contact, so that an anonymous wave cannot link them.
Answers are kept as one JSON document per response, keyed by exchange-file column
(`barriers`, `initiatives:paired_learning`) with the cell's text as value: the same values
an import file holds, so nothing is lost or recoded on the way in or out.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Double,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

# Constraint names are fixed so that migrations can refer to them on every backend.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

AnswersJSON = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class InstrumentRecord(Base):
    """A questionnaire definition as used by a wave; immutable once stored."""

    __tablename__ = "instrument"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_instrument_key_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    definition: Mapped[str] = mapped_column(Text, doc="The YAML definition, as loaded.")
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class Organisation(Base):
    """A trust (or any organisation whose leaders are surveyed)."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str | None] = mapped_column(String(300))


class Wave(Base):
    """A round of fieldwork on one instrument."""

    __tablename__ = "wave"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    instrument_id: Mapped[int] = mapped_column(ForeignKey("instrument.id"))
    opens: Mapped[dt.date | None] = mapped_column(Date)
    closes: Mapped[dt.date | None] = mapped_column(Date)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    suppression_threshold: Mapped[int] = mapped_column(Integer, default=5)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    instrument: Mapped[InstrumentRecord] = relationship()


class Response(Base):
    """One respondent's completed questionnaire.

    `submitted_on` is a date, never a time: in an anonymous wave a time of day could be
    matched against server logs to re-identify a respondent.
    """

    __tablename__ = "response"
    __table_args__ = (
        UniqueConstraint("wave_id", "respondent_key", name="uq_response_wave_respondent"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    respondent_key: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    mode: Mapped[str] = mapped_column(String(16))
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)
    answers: Mapped[dict[str, Any]] = mapped_column(AnswersJSON)


class HeldResponse(Base):
    """An anonymous wave's completed questionnaire waiting to join the responses.

    Written in the transaction that records the completion against the link or the paper
    return, so on PostgreSQL it shares that transaction's id (`xmin`) with the completed
    link; `sharedground.fieldwork.anonymity.release` later moves held questionnaires into
    `response` in batches, in random order, in a transaction of their own, so that no
    response shares anything with the link or contact it came from (see migration 0006).
    """

    __tablename__ = "held_response"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    role: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    mode: Mapped[str] = mapped_column(String(16))
    submitted_on: Mapped[dt.date | None] = mapped_column(Date)
    answers: Mapped[dict[str, Any]] = mapped_column(AnswersJSON)


class Contact(Base):
    """A person in a wave's sample frame. Responses never point here."""

    __tablename__ = "contact"
    __table_args__ = (UniqueConstraint("wave_id", "email", name="uq_contact_wave_email"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    postal_address: Mapped[str | None] = mapped_column(Text)
    role: Mapped[str] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    directorate: Mapped[str | None] = mapped_column(String(200))
    opted_out_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
    # Fieldwork (0003): completion is tracked here, never on a response, so that anonymous
    # waves know who has answered without knowing what they said.
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    completed_mode: Mapped[str | None] = mapped_column(String(16))
    bounced_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    serial: Mapped[str | None] = mapped_column(String(16), unique=True)


class Link(Base):
    """A personal survey link. Only a hash of its token is kept; the token is never stored.

    Dates, not times: in an anonymous wave a completion time could be matched against the
    responses' order or a server log. A link may point at a contact; a response never does.
    """

    __tablename__ = "link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str | None] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contact.id"), index=True)
    created_on: Mapped[dt.date] = mapped_column(Date)
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    completed_on: Mapped[dt.date | None] = mapped_column(Date)

    wave: Mapped[Wave] = relationship()


class Draft(Base):
    """The answers of a survey in progress, saved each time the respondent continues.

    Deleted in the same transaction that stores the response, so a submitted survey leaves
    nothing keyed by its link behind.
    """

    __tablename__ = "draft"

    link_id: Mapped[int] = mapped_column(ForeignKey("link.id"), primary_key=True)
    answers: Mapped[dict[str, Any]] = mapped_column(AnswersJSON)
    sections_done: Mapped[list[str]] = mapped_column(JSON)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime)


class Setting(Base):
    """Installation-wide values kept in the database (for example the web app's secret key)."""

    __tablename__ = "setting"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# -- fieldwork (migration 0003) ----------------------------------------------------------------


class PersonalLink(Base):
    """A contact's personal link, with its token sealed (encrypted) for later messages.

    The link row keeps only the token's hash; the sealed copy lets a reminder carry the
    same address as the invitation. It opens only with the key from the environment or a
    key file, never stored in the database, so a copy of the database alone still cannot
    be used to answer in someone's name.
    """

    __tablename__ = "personal_link"

    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), primary_key=True)
    link_id: Mapped[int] = mapped_column(ForeignKey("link.id"), unique=True)
    sealed_token: Mapped[str] = mapped_column(Text)


class Message(Base):
    """One e-mail to one contact; (contact, kind) is unique so nothing is sent twice.

    `status` goes `sending` (written and committed before the SMTP transaction) then
    `sent`, `failed` or `bounced` (committed after it). A row left at `sending` by a
    process that died is a message whose fate is unknown.
    """

    __tablename__ = "message"
    __table_args__ = (UniqueConstraint("contact_id", "kind", name="uq_message_contact_kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    started_at: Mapped[dt.datetime] = mapped_column(DateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    detail: Mapped[str | None] = mapped_column(Text)


class PostalDraw(Base):
    """The postal sample drawn for a wave: how, so that it can be drawn again identically."""

    __tablename__ = "postal_draw"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), unique=True)
    seed: Mapped[int] = mapped_column(Integer)
    fractions: Mapped[dict[str, Any]] = mapped_column(JSON)
    exclude_completed: Mapped[bool] = mapped_column(Boolean)
    sampled: Mapped[int] = mapped_column(Integer)
    drawn_at: Mapped[dt.datetime] = mapped_column(DateTime)


class PaperReturn(Base):
    """A returned paper questionnaire, from first keying to reconciled response.

    `status`: `keying` (fewer than two keyings), `discrepant` (two keyings disagree and a
    reviewer must resolve them), `reconciled` (stored as a response) or `duplicate` (the
    contact had already completed; reported, never counted).
    """

    __tablename__ = "paper_return"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    wave_id: Mapped[int] = mapped_column(ForeignKey("wave.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("contact.id"), unique=True)
    serial: Mapped[str] = mapped_column(String(16), unique=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16))
    duplicate_of: Mapped[str | None] = mapped_column(String(16))
    answers: Mapped[dict[str, Any] | None] = mapped_column(AnswersJSON)
    reviewer: Mapped[str | None] = mapped_column(String(100))
    reconciled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class PaperKeying(Base):
    """One independent keying of a paper questionnaire (1 or 2)."""

    __tablename__ = "paper_keying"
    __table_args__ = (UniqueConstraint("return_id", "keying", name="uq_paper_keying_return"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("paper_return.id"), index=True)
    keying: Mapped[int] = mapped_column(Integer)
    keyer: Mapped[str] = mapped_column(String(100))
    keyed_at: Mapped[dt.datetime] = mapped_column(DateTime)
    answers: Mapped[dict[str, Any]] = mapped_column(AnswersJSON)


class AdminUser(Base):
    """Someone who may use the admin pages: a study administrator or an organisation lead."""

    __tablename__ = "admin_user"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    deactivated_at: Mapped[dt.datetime | None] = mapped_column(
        DateTime, doc="Set when the account was closed: it can no longer sign in."
    )


class AdminSession(Base):
    """A signed-in browser; the cookie holds a random token, the database only its hash."""

    __tablename__ = "admin_session"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("admin_user.id"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime)


class AuditEntry(Base):
    """Who did what, when: one row per administrative action (never deleted by the app)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, index=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str | None] = mapped_column(String(300))
    detail: Mapped[str | None] = mapped_column(Text)


# -- web survey: token guessing (migration 0005) -----------------------------------------------


class Guess(Base):
    """One failed attempt to name a link, shared by every worker for the rate limit.

    The client is kept only as a keyed hash of its address (the key is the app's secret),
    and rows older than the limit's window are deleted: the table says no more than "some
    client failed at this instant" for as long as that matters.
    """

    __tablename__ = "guess"
    __table_args__ = (Index("ix_guess_client_key_at", "client_key", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_key: Mapped[str] = mapped_column(String(32))
    at: Mapped[float] = mapped_column(Double, index=True, doc="Seconds since the epoch (UTC).")
