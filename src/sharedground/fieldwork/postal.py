"""The postal phase: a reproducible stratified random sample, and serial numbers.

In 2015 questionnaires were posted to every chief executive and medical director and to
random samples of 10% of clinical directors and 16% of directorate managers. Here each
role group (stratum) is sampled separately: `round(fraction x size)` people (halves
rounded up, and at least one when the fraction is above zero and the group is not
empty), drawn without replacement with NumPy's PCG64 generator seeded by `--seed`, from
the group's contacts in id order. The same seed on the same frame draws the same people.

Only contacts with a postal address who have not opted out can be drawn; with
`exclude_completed`, those who already answered online are left out too.

Each person drawn gets a serial number printed on every page of their questionnaire:
`WWW-NNNNN-C`, the wave, a running number and a check digit (Damm's algorithm, which
catches every single mistyped digit and every swap of two adjacent digits), so a keyer's
slip is refused rather than filed under someone else.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sharedground.fieldwork.clock import stored_now
from sharedground.instrument import loads
from sharedground.store import Contact, Store, StoreError, Wave
from sharedground.store.schema import Link, PaperReturn, PersonalLink, PostalDraw

DEFAULT_FRACTIONS = {
    "chief_executive": 1.0,
    "medical_director": 1.0,
    "clinical_director": 0.10,
    "directorate_manager": 0.16,
}

_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)
_SERIAL = re.compile(r"^\s*(\d{3})\D?(\d{5})\D?(\d)\s*$")


class PostalError(StoreError):
    """The postal phase cannot go on as asked; the message says why and what to do."""


def damm(digits: str) -> int:
    """The Damm check digit of a string of digits."""
    interim = 0
    for d in digits:
        interim = _DAMM[interim][int(d)]
    return interim


def make_serial(wave_id: int, number: int) -> str:
    body = f"{wave_id % 1000:03d}{number:05d}"
    return f"{body[:3]}-{body[3:]}-{damm(body)}"


def parse_serial(text: str) -> str:
    """The canonical serial for what a keyer typed (hyphens and spaces optional).

    Raises:
        PostalError: not a serial, or the check digit does not match (a typing slip).
    """
    match = _SERIAL.match(text)
    if not match:
        raise PostalError(f"{text!r} is not a serial number (like 001-00042-7)")
    body = match.group(1) + match.group(2)
    if damm(body + match.group(3)) != 0:
        raise PostalError(
            f"{text!r}: the check digit does not match; the serial was probably mistyped"
        )
    return f"{match.group(1)}-{match.group(2)}-{match.group(3)}"


def parse_fractions(text: str, roles: list[str]) -> dict[str, float]:
    """`chief_executive=1,clinical_director=0.1` -> a fraction for every role (0 if unnamed)."""
    fractions = dict.fromkeys(roles, 0.0)
    for part in text.split(","):
        if not part.strip():
            continue
        role, sep, value = part.partition("=")
        role = role.strip()
        if not sep or role not in roles:
            raise PostalError(
                f"--fractions: {part.strip()!r} should be ROLE=FRACTION with ROLE one of "
                f"{', '.join(roles)}"
            )
        try:
            fraction = float(value)
        except ValueError:
            raise PostalError(f"--fractions: {value.strip()!r} is not a number") from None
        if not 0.0 <= fraction <= 1.0:
            raise PostalError(f"--fractions: {role}={fraction} must be between 0 and 1")
        fractions[role] = fraction
    return fractions


def stratum_size(fraction: float, population: int) -> int:
    """How many to draw from a group: the fraction, halves up, at least one if any."""
    if population == 0 or fraction <= 0:
        return 0
    return min(population, max(1, math.floor(fraction * population + 0.5)))


def draw(
    ids_by_role: Mapping[str, list[int]], fractions: Mapping[str, float], seed: int
) -> list[int]:
    """The sampled contact ids, role by role in the order given, each group in id order."""
    generator = np.random.Generator(np.random.PCG64(seed))
    chosen: list[int] = []
    for role, ids in ids_by_role.items():
        ordered = sorted(ids)
        k = stratum_size(fractions.get(role, 0.0), len(ordered))
        if k == 0:
            continue
        picks = generator.choice(len(ordered), size=k, replace=False)
        chosen.extend(sorted(ordered[i] for i in picks))
    return chosen


@dataclass(frozen=True)
class DrawSummary:
    """How many were in each group and how many were drawn."""

    population: dict[str, int]
    sampled: dict[str, int]
    first_serial: str | None
    last_serial: str | None


def draw_sample(
    store: Store,
    wave_name: str,
    fractions: Mapping[str, float] | None = None,
    *,
    seed: int,
    exclude_completed: bool = False,
    replace: bool = False,
) -> DrawSummary:
    """Draw the postal sample of a wave and give each person drawn a serial number."""
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        roles = loads(wave.instrument.definition).role_ids()
        wanted = dict(DEFAULT_FRACTIONS if fractions is None else fractions)
        for role in wanted:
            if role not in roles:
                raise PostalError(f"wave {wave.name!r} has no role {role!r}")
        previous = session.scalar(select(PostalDraw).where(PostalDraw.wave_id == wave.id))
        if previous is not None:
            if not replace:
                raise PostalError(
                    f"wave {wave.name!r} already has a postal sample (seed {previous.seed}); "
                    "give --replace to draw it again"
                )
            if session.scalar(select(PaperReturn.id).where(PaperReturn.wave_id == wave.id)):
                raise PostalError("paper questionnaires have been keyed: the sample cannot change")
            session.execute(update(Contact).where(Contact.wave_id == wave.id).values(serial=None))
            session.delete(previous)
            session.flush()
        ids_by_role = _frame(session, wave, roles, exclude_completed)
        chosen = draw(ids_by_role, wanted, seed)
        serials = [make_serial(wave.id, n) for n in range(1, len(chosen) + 1)]
        for contact_id, serial in zip(chosen, serials, strict=True):
            session.execute(update(Contact).where(Contact.id == contact_id).values(serial=serial))
        session.add(
            PostalDraw(
                wave_id=wave.id,
                seed=seed,
                fractions=wanted,
                exclude_completed=exclude_completed,
                sampled=len(chosen),
                drawn_at=stored_now(),
            )
        )
        sampled = {
            role: stratum_size(wanted.get(role, 0.0), len(ids)) for role, ids in ids_by_role.items()
        }
    return DrawSummary(
        population={role: len(ids) for role, ids in ids_by_role.items()},
        sampled=sampled,
        first_serial=serials[0] if serials else None,
        last_serial=serials[-1] if serials else None,
    )


def _frame(
    session: Session, wave: Wave, roles: list[str], exclude_completed: bool
) -> dict[str, list[int]]:
    query = (
        select(Contact.id, Contact.role, Contact.completed_on, Link.completed_on)
        .outerjoin(PersonalLink, PersonalLink.contact_id == Contact.id)
        .outerjoin(Link, Link.id == PersonalLink.link_id)
        .where(
            Contact.wave_id == wave.id,
            Contact.postal_address.is_not(None),
            Contact.opted_out_at.is_(None),
        )
    )
    groups: dict[str, list[int]] = {role: [] for role in roles}
    for contact_id, role, contact_done, link_done in session.execute(query):
        if exclude_completed and (contact_done is not None or link_done is not None):
            continue
        groups.setdefault(role, []).append(contact_id)
    return groups


def sampled_contacts(session: Session, wave: Wave) -> list[Contact]:
    """The contacts drawn for the postal phase, in serial order."""
    return list(
        session.scalars(
            select(Contact)
            .where(Contact.wave_id == wave.id, Contact.serial.is_not(None))
            .order_by(Contact.serial)
        )
    )
