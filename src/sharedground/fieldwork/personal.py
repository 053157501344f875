"""Personal links for contacts, kept so that every message can carry the same link.

Links store only a hash of their token (`fieldwork.links`), so the address can be built
only when the token is made. An invitation and its reminders must carry the *same*
address: respondents open whichever message is at hand, and their draft is kept by link.
Three ways were weighed:

* a fresh link per message: the draft would be split over several links, and a contact
  could answer twice;
* several token hashes per link: the survey pages would have to look tokens up in a second
  table, a change to the respondent side for a fieldwork need;
* the token kept *sealed* (Fernet: AES-128-CBC with an HMAC-SHA256 tag), with a key that is
  never in the database. Chosen: nothing changes for the survey pages, and a copy of the
  database alone still cannot be used to answer in someone's name.

The key is `$SHAREDGROUND_LINK_KEY`, or the key file named by `--link-key-file` (created,
readable only by its owner, the first time links are made). A fingerprint of the key is
kept in the database so that a wrong key is reported plainly instead of sending broken
links. Only the sender needs the key; the web app never does.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from sharedground.fieldwork.defaults import DEFAULT_KEY_FILE, KEY_ENV
from sharedground.fieldwork.links import create_links, hash_token
from sharedground.store import Contact, StoreError, Wave
from sharedground.store.schema import Link, PersonalLink, Setting

_FINGERPRINT = "link_key_fingerprint"


class LinkKeyError(StoreError):
    """The link key is missing or is not the one the links were sealed with."""


def load_key(key_file: str | Path | None = None, *, create: bool = False) -> bytes:
    """The link key: $SHAREDGROUND_LINK_KEY, else the key file (made when `create`)."""
    explicit = os.environ.get(KEY_ENV)
    if explicit:
        return _valid(explicit.strip().encode(), f"${KEY_ENV}")
    path = Path(key_file or DEFAULT_KEY_FILE)
    if path.exists():
        return _valid(path.read_bytes().strip(), str(path))
    if not create:
        raise LinkKeyError(
            f"no link key: set ${KEY_ENV} or give --link-key-file (looked for {path}); "
            "it is the key the personal links were sealed with when invitations were first sent"
        )
    key = Fernet.generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    return key


def _valid(key: bytes, where: str) -> bytes:
    try:
        Fernet(key)
    except ValueError:
        raise LinkKeyError(
            f"{where} is not a link key (32 bytes in URL-safe base64, as written by "
            "`sharedground send` into a new key file)"
        ) from None
    return key


def fingerprint(key: bytes) -> str:
    return hashlib.sha256(b"sharedground-link-key:" + key).hexdigest()[:16]


class Sealer:
    """Seals and opens tokens with one key, checked against the database's fingerprint."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)
        self.fingerprint = fingerprint(key)

    def check(self, session: Session) -> None:
        """Record this key's fingerprint on first use; LinkKeyError if another key was used."""
        row = session.get(Setting, _FINGERPRINT)
        if row is None:
            session.add(Setting(name=_FINGERPRINT, value=self.fingerprint))
            session.flush()
        elif row.value != self.fingerprint:
            raise LinkKeyError(
                "this link key is not the one the personal links were sealed with "
                f"(fingerprint {self.fingerprint}, expected {row.value}); use the original "
                f"${KEY_ENV} or key file"
            )

    def seal(self, token: str) -> str:
        return self._fernet.encrypt(token.encode()).decode()

    def open(self, sealed: str) -> str:
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except InvalidToken:
            raise LinkKeyError("a sealed link does not open with this key") from None


def ensure_links(
    session: Session, wave: Wave, contacts: Sequence[Contact], sealer: Sealer
) -> dict[int, str]:
    """Each contact's token, making (and sealing) links for the contacts that have none.

    A contact's link carries their role and trust, so the survey does not ask for them.
    """
    ids = [c.id for c in contacts]
    sealed: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        sealed.update(
            session.execute(
                select(PersonalLink.contact_id, PersonalLink.sealed_token).where(
                    PersonalLink.contact_id.in_(chunk)
                )
            ).all()
        )
    tokens = {ident: sealer.open(value) for ident, value in sealed.items()}
    missing = [c for c in contacts if c.id not in tokens]
    if not missing:
        return tokens
    groups: dict[str, list[Contact]] = {}
    for contact in missing:
        groups.setdefault(contact.role, []).append(contact)
    for role, members in groups.items():
        # One call per role (each checks the role against the instrument); the trust is set
        # on the new links afterwards, from each contact, rather than one call per trust.
        made = create_links(
            session, wave, len(members), role=role, contact_ids=[c.id for c in members]
        )
        by_hash = {hash_token(token): token for token in made}
        link_ids: dict[str, int] = {}
        hashes = list(by_hash)
        for start in range(0, len(hashes), 500):
            link_ids.update(
                session.execute(
                    select(Link.token_hash, Link.id).where(
                        Link.token_hash.in_(hashes[start : start + 500])
                    )
                ).all()
            )
        trusts = []
        for contact, token in zip(members, made, strict=True):
            link_id = link_ids[hash_token(token)]
            if contact.organisation_id is not None:
                trusts.append({"id": link_id, "organisation_id": contact.organisation_id})
            session.add(
                PersonalLink(
                    contact_id=contact.id, link_id=link_id, sealed_token=sealer.seal(token)
                )
            )
            tokens[contact.id] = token
        if trusts:
            session.execute(update(Link), trusts)  # bulk UPDATE by primary key
    session.flush()
    return tokens


def link_of(session: Session, contact_id: int) -> Link | None:
    """The contact's personal link, if one was made."""
    return session.scalar(
        select(Link)
        .join(PersonalLink, PersonalLink.link_id == Link.id)
        .where(PersonalLink.contact_id == contact_id)
    )
