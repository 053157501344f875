"""Tables of the text capability (migration 0011): sources, coding frames, coders, codings.

A source is a piece of text to code: one free-text answer of a wave (a comment) or a
document the team added (an interview or focus-group transcript). Its text is kept as the
anonymiser left it, so every offset a coder records counts characters of the text that may
leave the system (a REFI-QDA export, a quotation) and no later scrubbing can shift them.

A comment points at its response so it can carry the respondent's role group, trust and
mode; the response never points back, and a coder is an account of the research team,
never a respondent. Each coder's codings are kept apart (`coder_id`), so two coders can code
the same sample blind and be compared; the team's resolved coding is one more coder
(`TEAM_CODER`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, func
from sqlalchemy.orm import Mapped, mapped_column, relationship

from sharedground.store.schema import Base

#: The coder whose codings are the team's agreed (resolved) coding.
TEAM_CODER = "team"


class TextSource(Base):
    """A comment or a transcript, anonymised, with the attributes of its case."""

    __tablename__ = "text_source"
    __table_args__ = (
        UniqueConstraint("response_id", "item_id", name="uq_text_source_response_item"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    guid: Mapped[str] = mapped_column(String(36), unique=True)
    kind: Mapped[str] = mapped_column(String(16), doc="`comment` or `transcript`.")
    name: Mapped[str] = mapped_column(String(300))
    wave_id: Mapped[int | None] = mapped_column(ForeignKey("wave.id"), index=True)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id"))
    item_id: Mapped[str | None] = mapped_column(String(64))
    role: Mapped[str | None] = mapped_column(String(64))
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisation.id"))
    attributes: Mapped[dict[str, Any]] = mapped_column(JSON)
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())


class CodeFrame(Base):
    """A coding frame as loaded from YAML; versioned like a questionnaire."""

    __tablename__ = "code_frame"
    __table_args__ = (UniqueConstraint("key", "version", name="uq_code_frame_key_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    definition: Mapped[str] = mapped_column(Text, doc="The YAML definition, as loaded.")
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())

    codes: Mapped[list[TextCode]] = relationship(back_populates="frame", order_by="TextCode.id")


class TextCode(Base):
    """One code of a frame; `parent_id` gives the hierarchy."""

    __tablename__ = "text_code"
    __table_args__ = (UniqueConstraint("frame_id", "key", name="uq_text_code_frame_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    frame_id: Mapped[int] = mapped_column(ForeignKey("code_frame.id"), index=True)
    key: Mapped[str] = mapped_column(String(64))
    guid: Mapped[str] = mapped_column(String(36))
    name: Mapped[str] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("text_code.id"))
    description: Mapped[str | None] = mapped_column(Text)
    example: Mapped[str | None] = mapped_column(Text)

    frame: Mapped[CodeFrame] = relationship(back_populates="codes")


class Coder(Base):
    """Someone of the research team who codes (by name; never a respondent)."""

    __tablename__ = "coder"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    guid: Mapped[str] = mapped_column(String(36), unique=True)


class Coding(Base):
    """A code applied by a coder to a whole source (no offsets) or to a span of it.

    Offsets count characters (Unicode code points) from 0, end exclusive, as REFI-QDA's
    `startPosition`/`endPosition` do. A span covering the whole text is stored as a whole
    coding, so the two ways of saying the same thing compare equal.
    """

    __tablename__ = "coding"
    __table_args__ = (
        UniqueConstraint("source_id", "code_id", "coder_id", "start", "end", name="uq_coding_span"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("text_source.id"), index=True)
    code_id: Mapped[int] = mapped_column(ForeignKey("text_code.id"), index=True)
    coder_id: Mapped[int] = mapped_column(ForeignKey("coder.id"), index=True)
    start: Mapped[int | None] = mapped_column(Integer)
    end: Mapped[int | None] = mapped_column(Integer)
    memo: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, server_default=func.now())
