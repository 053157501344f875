"""A respondent's visit: finding their link, saving their draft, submitting their response.

The rules that make answers safe live here, in one place, behind plain functions:

* a draft is saved each time the respondent continues, so nothing is lost when they stop,
  change browser, or the server restarts;
* submitting marks the link complete with a conditional UPDATE (`... WHERE completed_on IS
  NULL`) in the same transaction that inserts the response and deletes the draft: a
  double click, a retried POST or a back-button resubmission finds the link completed and
  adds nothing, on SQLite and PostgreSQL alike;
* in an anonymous wave the answers are held and join the responses later in a batch, with
  a random key and no reference to the link (fieldwork/anonymity.py); the link keeps only
  the day of completion, the response only the day of submission.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import cast

from sqlalchemy import Connection, Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from sharedground.fieldwork import anonymity
from sharedground.fieldwork.clock import stored_now
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

    def __init__(
        self, state: LinkState, opens: dt.date | None = None, closes: dt.date | None = None
    ) -> None:
        super().__init__(state.name)
        self.state = state
        self.opens = opens
        self.closes = closes


@dataclass
class Visit:
    """What a page needs to know about the link it was opened with."""

    link_id: int
    wave_id: int
    wave_name: str
    anonymous: bool
    instrument_id: int
    role: str | None
    organisation_id: int | None
    completed: bool
    closes: dt.date | None
    answers: dict[str, str] = field(default_factory=dict)
    sections_done: list[str] = field(default_factory=list)
    has_draft: bool = False
    started: bool = False


# One query per page view: the link, its wave and its draft (columns, not ORM objects, to
# keep the per-request cost low under load).
_VISIT = (
    select(
        Link.id,
        Link.role,
        Link.organisation_id,
        Link.started_on,
        Link.completed_on,
        Wave.id,
        Wave.name,
        Wave.anonymous,
        Wave.instrument_id,
        Wave.opens,
        Wave.closes,
        Draft.answers,
        Draft.sections_done,
    )
    .join(Wave, Wave.id == Link.wave_id)
    .outerjoin(Draft, Draft.link_id == Link.id)
    .where(Link.token_hash == bindparam("token_hash"))
)
# Prebuilt statements: building a statement costs more than running it on SQLite.
_DRAFT = cast(Table, Draft.__table__)
_UPDATE_DRAFT = (
    update(_DRAFT)
    .where(_DRAFT.c.link_id == bindparam("p_link_id"))
    .values(
        answers=bindparam("p_answers", type_=_DRAFT.c.answers.type),
        sections_done=bindparam("p_sections_done", type_=_DRAFT.c.sections_done.type),
        updated_at=bindparam("p_updated_at"),
    )
)
_INSERT_DRAFT = insert(_DRAFT).values(
    link_id=bindparam("p_link_id"),
    answers=bindparam("p_answers", type_=_DRAFT.c.answers.type),
    sections_done=bindparam("p_sections_done", type_=_DRAFT.c.sections_done.type),
    updated_at=bindparam("p_updated_at"),
)
_LINK = cast(Table, Link.__table__)
_START_LINK = (
    update(_LINK)
    .where(_LINK.c.id == bindparam("p_link_id"), _LINK.c.started_on.is_(None))
    .values(started_on=bindparam("p_today"))
)


def open_visit(
    db: Session | Connection, token: str, today: dt.date, *, allow_completed: bool = False
) -> Visit:
    """The visit for a token, with its draft; LinkRefused when it cannot be used today.

    Args:
        db: a session, or a plain connection (a page view needs no ORM session).
        allow_completed: return a completed link's visit instead of refusing it (for the
            confirmation page and for a repeated submission).
    """
    if not looks_like_token(token):
        raise LinkRefused(LinkState.UNKNOWN)
    connection = db.connection() if isinstance(db, Session) else db
    row = connection.execute(_VISIT, {"token_hash": hash_token(token)}).first()
    if row is None:
        raise LinkRefused(LinkState.UNKNOWN)
    (
        link_id,
        role,
        organisation_id,
        started_on,
        completed_on,
        wave_id,
        wave_name,
        anonymous,
        instrument_id,
        opens,
        closes,
        answers,
        sections_done,
    ) = row
    if completed_on is not None:
        if not allow_completed:
            raise LinkRefused(LinkState.COMPLETED, opens, closes)
    elif opens is not None and today < opens:
        raise LinkRefused(LinkState.NOT_OPEN, opens, closes)
    elif closes is not None and today > closes:
        raise LinkRefused(LinkState.CLOSED, opens, closes)
    return Visit(
        link_id=link_id,
        wave_id=wave_id,
        wave_name=wave_name,
        anonymous=anonymous,
        instrument_id=instrument_id,
        role=role,
        organisation_id=organisation_id,
        completed=completed_on is not None,
        closes=closes,
        answers=dict(answers) if answers is not None else {},
        sections_done=list(sections_done) if sections_done is not None else [],
        has_draft=answers is not None,
        started=started_on is not None,
    )


def save_section(
    db: Session | Connection,
    visit: Visit,
    names: list[str],
    answers: Mapping[str, str],
    done: str | None,
    today: dt.date,
    now: dt.datetime | None = None,
) -> None:
    """Replace the answers of one page in the draft, and mark the page done if `done`.

    Args:
        names: every field name of the page (answers not given are cleared: a respondent
            who un-ticks an answer means it).
        answers: the page's valid answers.
        done: the section id to mark done, or None when the page still has problems.
        today: the study's date (the link's first save starts it on that day).
        now: the instant, as stored (UTC); by default the clock's.
    """
    merged = {k: v for k, v in visit.answers.items() if k not in names}
    merged.update(answers)
    sections = list(visit.sections_done)
    if done is not None and done not in sections:
        sections.append(done)
    connection = db.connection() if isinstance(db, Session) else db
    params = {
        "p_link_id": visit.link_id,
        "p_answers": merged,
        "p_sections_done": sections,
        "p_updated_at": now or stored_now(),
    }
    # Two first saves at once (a double click) can both insert; the loser's IntegrityError
    # rolls its transaction back and the page is run again (WebContext.run).
    connection.execute(_UPDATE_DRAFT if visit.has_draft else _INSERT_DRAFT, params)
    if not visit.started:
        connection.execute(_START_LINK, {"p_link_id": visit.link_id, "p_today": today})
    visit.answers = merged
    visit.sections_done = sections
    visit.has_draft = True
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
    if visit.anonymous:
        # Held, and released to the responses later in a batch of its own (anonymity.py):
        # written here it would share this transaction with the completed link.
        anonymity.hold(
            session,
            visit.wave_id,
            role=role,
            organisation_id=visit.organisation_id,
            mode=MODE,
            submitted_on=today,
            answers=answers,
        )
    else:
        session.execute(
            insert(Response).values(
                wave_id=visit.wave_id,
                respondent_key=f"web-link-{visit.link_id}",
                role=role,
                organisation_id=visit.organisation_id,
                mode=MODE,
                submitted_on=today,
                answers=answers,
            )
        )
    session.execute(delete(Draft).where(Draft.link_id == visit.link_id))
    visit.completed = True
    return True
