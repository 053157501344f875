"""A programme's cohort: the doctors and managers taking part in an initiative.

Only initiatives of a kind that pairs or groups people (paired learning, shadowing,
buddying or mentoring, coaching, or an organisation's kind marked so) have a cohort.
Participants come from a CSV or XLSX file (all rows or none, problems by row and column)
or from a wave's contacts. Each gets a pseudonymous code of 96 random bits from `secrets`,
never derived from a name or an address, kept in a table of its own (`participant_code`):
pulse answers carry only the code.

File columns: `name, email, side, role, directorate, grade, reports_to, prefers`.
`side` is `doctor` or `manager` (it may be left out when `role` says it: medical and
clinical directors are doctors, chief executives and directorate managers managers);
`reports_to` is the e-mail of the person's line manager; `prefers` lists e-mails of
people on the other side the person would like to be paired with, separated by `;`.
"""

from __future__ import annotations

import re
import secrets
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharedground.exchange.problems import InvalidFile, Problem
from sharedground.fieldwork.accounts import audit
from sharedground.initiatives import io, register
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.models import Initiative, Participant, ParticipantCode
from sharedground.store import Contact, Store

COLUMNS = ("name", "email", "side", "role", "directorate", "grade", "reports_to", "prefers")
REQUIRED = ("email",)
SIDES = ("doctor", "manager")
#: The side each of the survey's roles is on.
SIDE_OF_ROLE = {
    "medical_director": "doctor",
    "clinical_director": "doctor",
    "chief_executive": "manager",
    "directorate_manager": "manager",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CODE_BYTES = 12  # 96 bits: the issue asks for at least 64


def new_code() -> str:
    """A fresh pseudonymous participant code (random; nothing about the person in it)."""
    return secrets.token_hex(CODE_BYTES)


@dataclass(frozen=True)
class Member:
    """A participant as the cohort lists it."""

    id: int
    name: str | None
    email: str
    side: str
    role: str | None
    directorate: str | None
    grade: str | None
    reports_to: str | None
    prefers: tuple[str, ...]


def cohort_initiative(session: Session, ident: int, trust: str | None = None) -> Initiative:
    """The initiative, refused unless its kind has a cohort."""
    row = register.get(session, ident, trust)
    kind = register.kinds_for(session, row.organisation_id).get(row.kind)
    if kind is None or not kind.groups_people:
        raise InitiativeError(
            f"initiative {ident} is {row.kind!r}, a kind without participants; cohorts are "
            "for paired learning, shadowing, buddying or mentoring, coaching and the "
            "organisation's kinds marked groups_people"
        )
    if row.stage == "ended":
        raise InitiativeError(f"initiative {ident} has ended; its cohort can no longer change")
    return row


def members(session: Session, initiative_id: int) -> list[Member]:
    rows = session.scalars(
        select(Participant)
        .where(Participant.initiative_id == initiative_id)
        .order_by(Participant.side, Participant.email)
    )
    return [
        Member(
            p.id,
            p.name,
            p.email,
            p.side,
            p.role,
            p.directorate,
            p.grade,
            p.reports_to,
            tuple(p.prefers or ()),
        )
        for p in rows
    ]


def counts(session: Session, initiative_id: int) -> dict[str, int]:
    """How many participants on each side."""
    found = Counter(m.side for m in members(session, initiative_id))
    return {side: found.get(side, 0) for side in SIDES}


def _add(
    session: Session, initiative: Initiative, rows: list[dict[str, object]], actor: str, how: str
) -> int:
    for values in rows:
        person = Participant(initiative_id=initiative.id, **values)
        session.add(person)
        session.flush()
        session.add(ParticipantCode(participant_id=person.id, code=new_code()))
    audit(
        session,
        actor,
        "participants add",
        f"initiative {initiative.id}",
        {"added": len(rows), "from": how},
    )
    session.flush()
    return len(rows)


def import_cohort(
    store: Store, initiative_id: int, path: str | Path, *, actor: str, trust: str | None = None
) -> int:
    """Add the people in a file to an initiative's cohort: every row, or none."""
    name = str(path)
    header, rows = io.read_table(path, COLUMNS)
    columns = io.map_header(name, header, COLUMNS, REQUIRED)
    with store.session() as session:
        initiative = cohort_initiative(session, initiative_id, trust)
        existing = {m.email: m for m in members(session, initiative_id)}
        problems: list[Problem] = []
        parsed: list[tuple[int, dict[str, object]]] = []
        seen: dict[str, int] = {}
        for number, cells in rows:
            values = io.values_of(columns, cells)
            if not any(values.values()):
                continue
            found, row = _check_row(number, values)
            email = str(row.get("email") or "")
            if email and not found:
                if email in seen:
                    found.append(
                        Problem(number, "email", f"{email} is already on row {seen[email]}")
                    )
                elif email in existing:
                    found.append(Problem(number, "email", f"{email} is in the cohort already"))
                seen.setdefault(email, number)
            problems += found
            if not found:
                parsed.append((number, row))
        side_of = {m.email: m.side for m in existing.values()}
        side_of.update({str(r["email"]): str(r["side"]) for _, r in parsed})
        for number, row in parsed:
            for wanted in row["prefers"]:  # type: ignore[attr-defined]
                if wanted not in side_of:
                    problems.append(Problem(number, "prefers", f"{wanted} is not in the cohort"))
                elif side_of[wanted] == row["side"]:
                    problems.append(
                        Problem(
                            number,
                            "prefers",
                            f"{wanted} is a {row['side']} too; pairs are one doctor, one manager",
                        )
                    )
        if problems:
            raise InvalidFile(name, problems)
        if not parsed:
            raise InvalidFile(name, [Problem(None, None, "the file has a header but no people")])
        return _add(session, initiative, [r for _, r in parsed], actor, name)


def _check_row(
    number: int, values: dict[str, str | None]
) -> tuple[list[Problem], dict[str, object]]:
    problems: list[Problem] = []
    email = (values.get("email") or "").lower()
    if not email:
        problems.append(Problem(number, "email", "missing"))
    elif not _EMAIL.match(email) or len(email) > 320:
        problems.append(Problem(number, "email", f"{email!r} is not an e-mail address"))
    role = (values.get("role") or "").lower() or None
    if role is not None and role not in SIDE_OF_ROLE:
        problems.append(
            Problem(number, "role", f"{role!r} is not a role; use {' | '.join(SIDE_OF_ROLE)}")
        )
    side = (values.get("side") or "").lower() or (SIDE_OF_ROLE.get(role) if role else None)
    if side is None:
        problems.append(Problem(number, "side", "missing; use doctor or manager"))
    elif side not in SIDES:
        problems.append(Problem(number, "side", f"{side!r}: use doctor or manager"))
    elif role is not None and role in SIDE_OF_ROLE and SIDE_OF_ROLE[role] != side:
        problems.append(
            Problem(number, "side", f"{side} but role {role} is a {SIDE_OF_ROLE[role]}")
        )
    reports_to = (values.get("reports_to") or "").lower() or None
    if reports_to is not None and not _EMAIL.match(reports_to):
        problems.append(Problem(number, "reports_to", f"{reports_to!r} is not an e-mail address"))
    if reports_to is not None and reports_to == email:
        problems.append(Problem(number, "reports_to", "a person cannot be their own line manager"))
    prefers = [p.strip().lower() for p in (values.get("prefers") or "").split(";") if p.strip()]
    for wanted in prefers:
        if not _EMAIL.match(wanted):
            problems.append(Problem(number, "prefers", f"{wanted!r} is not an e-mail address"))
    for column, limit in (("name", 200), ("directorate", 200), ("grade", 100)):
        value = values.get(column)
        if value is not None and len(value) > limit:
            problems.append(Problem(number, column, f"{len(value)} characters, at most {limit}"))
    row: dict[str, object] = {
        "name": values.get("name"),
        "email": email,
        "side": side,
        "role": role,
        "directorate": values.get("directorate"),
        "grade": values.get("grade"),
        "reports_to": reports_to,
        "prefers": prefers,
    }
    return problems, row


def add_from_contacts(
    store: Store,
    initiative_id: int,
    wave_name: str,
    emails: list[str],
    *,
    actor: str,
    trust: str | None = None,
) -> int:
    """Add a wave's contacts (by e-mail) to the cohort; their role gives their side.

    Contacts must belong to the initiative's trust; every address is checked first.
    """
    with store.session() as session:
        initiative = cohort_initiative(session, initiative_id, trust)
        wave = store.get_wave(session, wave_name)
        existing = {m.email for m in members(session, initiative_id)}
        wanted = sorted({e.strip().lower() for e in emails if e.strip()})
        found = {
            (c.email or "").lower(): c
            for c in session.scalars(
                select(Contact).where(
                    Contact.wave_id == wave.id,
                    Contact.organisation_id == initiative.organisation_id,
                )
            )
        }
        problems = []
        rows: list[dict[str, object]] = []
        for email in wanted:
            contact = found.get(email)
            if contact is None:
                problems.append(f"{email}: not a contact of this trust in wave {wave_name!r}")
            elif email in existing:
                problems.append(f"{email}: in the cohort already")
            elif contact.role not in SIDE_OF_ROLE:
                problems.append(f"{email}: role {contact.role!r} is neither doctor nor manager")
            else:
                rows.append(
                    {
                        "name": contact.name,
                        "email": email,
                        "side": SIDE_OF_ROLE[contact.role],
                        "role": contact.role,
                        "directorate": contact.directorate,
                        "grade": None,
                        "reports_to": None,
                        "prefers": [],
                        "contact_id": contact.id,
                    }
                )
        if problems:
            raise InitiativeError("nothing was added:\n  " + "\n  ".join(problems))
        if not rows:
            raise InitiativeError("give the e-mail addresses of the contacts to add")
        return _add(session, initiative, rows, actor, f"wave {wave_name}")
