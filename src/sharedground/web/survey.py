"""A respondent's visit: finding their link, saving their draft, submitting their response.

The rules that make answers safe live here, in one place, behind plain functions:

* a draft is saved each time the respondent continues, so nothing is lost when they stop,
  change browser, or the server restarts;
* submitting marks the link complete with a conditional UPDATE (`... WHERE completed_on IS
  NULL`) in the same transaction that inserts the response and deletes the draft: a
  double click, a retried POST or a back-button resubmission finds the link completed and
  adds nothing, on SQLite and PostgreSQL alike;
* in an anonymous wave the response gets a random key and no reference to the link, and
  the link keeps only the day of completion; the response keeps only the day of submission.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from sharedground.fieldwork.links import hash_token, looks_like_token
from sharedground.store import Response, Wave
from sharedground.store.schema import Draft, Link
from sharedground.web.questions import ROLE

MODE = "online"


class LinkState(Enum):
    """Why a link cannot be used now (each has its own page and status code)."""

    UNKNOWN = "unknown"
    NOT_OPEN = "not_open"
    CLOSED = "closed"
    COMPLETED = "completed"


class LinkRefused(Exception):
    """The link cannot be used now; `state` says why."""

    def __init__(self, state: LinkState, wave: Wave | None = None) -> None:
        super().__init__(state.name)
        self.state = state
        self.opens = wave.opens if wave else None
        self.closes = wave.closes if wave else None


@dataclass
class Visit:
    """What a page needs to know about the link it was opened with."""

    link_id: int
    wave_id: int
    wave_name: str
    anonymous: bool
    instrument_id: int
    instrument_definition: str
    role: str | None
    organisation_id: int | None
    completed: bool
    closes: dt.date | None
    answers: dict[str, str] = field(default_factory=dict)
    sections_done: list[str] = field(default_factory=list)
    started: bool = False


def open_visit(
    session: Session, token: str, today: dt.date, *, allow_completed: bool = False
) -> Visit:
    """The visit for a token, with its draft; LinkRefused when it cannot be used today.

    Args:
        allow_completed: return a completed link's visit instead of refusing it (for the
            confirmation page and for a repeated submission).
    """
    if not looks_like_token(token):
        raise LinkRefused(LinkState.UNKNOWN)
    row = session.execute(
        select(Link, Wave)
        .join(Wave, Wave.id == Link.wave_id)
        .where(Link.token_hash == hash_token(token))
    ).first()
    if row is None:
        raise LinkRefused(LinkState.UNKNOWN)
    link, wave = row
    if link.completed_on is not None:
        if not allow_completed:
            raise LinkRefused(LinkState.COMPLETED, wave)
    elif wave.opens is not None and today < wave.opens:
        raise LinkRefused(LinkState.NOT_OPEN, wave)
    elif wave.closes is not None and today > wave.closes:
        raise LinkRefused(LinkState.CLOSED, wave)
    visit = Visit(
        link_id=link.id,
        wave_id=wave.id,
        wave_name=wave.name,
        anonymous=wave.anonymous,
        instrument_id=wave.instrument_id,
        instrument_definition="",
        role=link.role,
        organisation_id=link.organisation_id,
        completed=link.completed_on is not None,
        closes=wave.closes,
        started=link.started_on is not None,
    )
    draft = session.get(Draft, link.id)
    if draft is not None:
        visit.answers = dict(draft.answers)
        visit.sections_done = list(draft.sections_done)
    return visit


def save_section(
    session: Session,
    visit: Visit,
    names: list[str],
    answers: Mapping[str, str],
    done: str | None,
    today: dt.date,
) -> None:
    """Replace the answers of one page in the draft, and mark the page done if `done`.

    Args:
        names: every field name of the page (answers not given are cleared: a respondent
            who un-ticks an answer means it).
        answers: the page's valid answers.
        done: the section id to mark done, or None when the page still has problems.
    """
    merged = {k: v for k, v in visit.answers.items() if k not in names}
    merged.update(answers)
    sections = list(visit.sections_done)
    if done is not None and done not in sections:
        sections.append(done)
    now = dt.datetime.now().replace(microsecond=0)
    draft = session.get(Draft, visit.link_id)
    if draft is None:
        session.add(
            Draft(link_id=visit.link_id, answers=merged, sections_done=sections, updated_at=now)
        )
    else:
        draft.answers = merged
        draft.sections_done = sections
        draft.updated_at = now
    if not visit.started:
        session.execute(
            update(Link)
            .where(Link.id == visit.link_id, Link.started_on.is_(None))
            .values(started_on=today)
        )
    session.flush()
    visit.answers = merged
    visit.sections_done = sections
    visit.started = True


def submit(session: Session, visit: Visit, today: dt.date) -> bool:
    """Store the draft as the response and complete the link; False if already complete.

    The caller checks the answers first. Everything happens in the caller's transaction,
    so either the response, the completed link and the deleted draft all persist, or none.
    """
    claimed = session.execute(
        update(Link)
        .where(Link.id == visit.link_id, Link.completed_on.is_(None))
        .values(completed_on=today)
    )
    if claimed.rowcount != 1:  # type: ignore[attr-defined]
        return False
    answers = dict(visit.answers)
    role = visit.role or answers.pop(ROLE, None)
    answers.pop(ROLE, None)
    if role is None:
        raise ValueError("a response needs a role")
    key = f"web-{secrets.token_hex(10)}" if visit.anonymous else f"web-link-{visit.link_id}"
    session.add(
        Response(
            wave_id=visit.wave_id,
            respondent_key=key,
            role=role,
            organisation_id=visit.organisation_id,
            mode=MODE,
            submitted_on=today,
            answers=answers,
        )
    )
    session.execute(delete(Draft).where(Draft.link_id == visit.link_id))
    session.flush()
    visit.completed = True
    return True
