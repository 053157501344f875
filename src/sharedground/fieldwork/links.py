"""Personal survey links: random tokens, of which only a hash is ever stored.

A token is 192 random bits from `secrets` written in URL-safe base64 (32 characters). The
database keeps its SHA-256, so a copy of the database cannot be used to answer in
someone's name; a plain hash (not a slow one) is enough because the token is random, not
chosen by a person. The token itself is shown once, when the link is made, and is then
the respondent's to keep.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharedground.fieldwork.clock import study_today
from sharedground.store import Organisation, StoreError, Wave
from sharedground.store.schema import Contact, Link

TOKEN_BYTES = 24
TOKEN_LENGTH = 32  # characters of URL-safe base64 for TOKEN_BYTES
_TOKEN_PATTERN = re.compile(rf"[A-Za-z0-9_-]{{{TOKEN_LENGTH}}}")

SURVEY_PATH = "/s/"


class LinkError(StoreError):
    """Links cannot be made as asked; the message says what is allowed."""


def new_token() -> str:
    """A fresh random token (192 bits from the operating system's CSPRNG)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def looks_like_token(token: str) -> bool:
    """True when `token` has the shape of a token (it may still be unknown)."""
    return _TOKEN_PATTERN.fullmatch(token) is not None


def hash_token(token: str) -> str:
    """The hex SHA-256 of a token: what the database keeps instead of the token."""
    return hashlib.sha256(token.encode("ascii", errors="replace")).hexdigest()


def link_url(base_url: str, token: str) -> str:
    """The address a respondent opens, `{base_url}/s/{token}`."""
    return f"{base_url.rstrip('/')}{SURVEY_PATH}{token}"


def find_link(session: Session, token: str) -> Link | None:
    """The link with this token, or None for a malformed or unknown token."""
    if not looks_like_token(token):
        return None
    return session.scalar(select(Link).where(Link.token_hash == hash_token(token)))


def create_links(
    session: Session,
    wave: Wave,
    count: int,
    role: str | None = None,
    trust: str | None = None,
    contact_ids: Sequence[int] | None = None,
    today: dt.date | None = None,
) -> list[str]:
    """Make `count` links for a wave and return their tokens (the only time they exist).

    Args:
        session: An open session; the links are added to it (committed by the caller).
        wave: The wave the links answer.
        count: How many links to make.
        role: A role id of the wave's instrument, carried by every link (the respondent then
            is not asked it).
        trust: An organisation code carried by every link (created when new).
        contact_ids: One contact per link, in order (len must equal `count`); contacts must
            belong to `wave`.
        today: The links' creation date; by default today's date in the study's zone
            (`fieldwork.clock`), not the server's.

    Raises:
        LinkError: for a count below 1, an unknown role, or contacts that do not fit.
    """
    if count < 1:
        raise LinkError(f"--count must be at least 1, not {count}")
    if role is not None:
        from sharedground.instrument import loads

        roles = loads(wave.instrument.definition).role_ids()
        if role not in roles:
            raise LinkError(f"wave {wave.name!r} has no role {role!r} (roles: {', '.join(roles)})")
    organisation_id = _organisation_id(session, trust) if trust else None
    contacts: list[int | None] = [None] * count
    if contact_ids is not None:
        if len(contact_ids) != count:
            raise LinkError(f"{len(contact_ids)} contact ids given for {count} links")
        _check_contacts(session, wave, contact_ids)
        contacts = list(contact_ids)
    today = today or study_today()
    tokens = [new_token() for _ in range(count)]
    session.add_all(
        Link(
            wave_id=wave.id,
            token_hash=hash_token(token),
            role=role,
            organisation_id=organisation_id,
            contact_id=contact,
            created_on=today,
        )
        for token, contact in zip(tokens, contacts, strict=True)
    )
    session.flush()
    return tokens


def _organisation_id(session: Session, code: str) -> int:
    ident = session.scalar(select(Organisation.id).where(Organisation.code == code))
    if ident is None:
        organisation = Organisation(code=code)
        session.add(organisation)
        session.flush()
        ident = organisation.id
    return ident


def _check_contacts(session: Session, wave: Wave, contact_ids: Sequence[int]) -> None:
    wanted = set(contact_ids)
    if len(wanted) != len(contact_ids):
        raise LinkError("a contact id is given twice; each contact gets one link")
    found = set(
        session.scalars(
            select(Contact.id).where(Contact.id.in_(wanted), Contact.wave_id == wave.id)
        )
    )
    missing = sorted(wanted - found)
    if missing:
        shown = ", ".join(str(m) for m in missing[:5])
        raise LinkError(f"no contact {shown} in wave {wave.name!r}")
