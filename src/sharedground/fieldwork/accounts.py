"""Admin accounts: argon2 passwords, lockout, server-side sessions, and the audit log.

Two roles: a study `administrator` may do everything; an organisation `lead` sees only
their own trust's monitoring and aggregate results, never individual responses or
contacts. After MAX_FAILURES wrong passwords in a row an account is locked for
LOCK_MINUTES. A session is a random token in an HttpOnly cookie; the database keeps only
its hash, so sessions can be ended (logout, lockout, deactivation, a new password) and a
database copy opens none. Each administrative action is written to the audit log: who,
what, when.

Administrators manage the accounts (`create_account`, `unlock`, `deactivate`,
`reset_password`). An account is deactivated, never deleted, so the audit log keeps
naming a real account; the last active administrator cannot be deactivated, so that
someone can always sign in to manage the rest.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import json
import re
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from sharedground.fieldwork.clock import stored_now
from sharedground.store import Organisation, StoreError
from sharedground.store.schema import AdminSession, AdminUser, AuditEntry

ROLES = ("administrator", "lead")
MAX_FAILURES = 5
LOCK_MINUTES = 15
IDLE_MINUTES = 30
MAX_SESSION_HOURS = 12
MIN_PASSWORD = 12
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,99}$")

_hasher = PasswordHasher()
# Verified against when the username is unknown, so that a wrong name takes as long as a
# wrong password and does not reveal which accounts exist.
_DUMMY_HASH = _hasher.hash(secrets.token_hex(16))


class AccountError(StoreError):
    """An account cannot be made or used as asked; `field` names the form field at fault."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Principal:
    """The signed-in user, as the pages need it."""

    id: int
    username: str
    role: str
    trust: str | None  # the lead's organisation code

    @property
    def is_admin(self) -> bool:
        return self.role == "administrator"

    def may_see_trust(self, code: str | None) -> bool:
        return self.is_admin or (code is not None and code == self.trust)


def create_user(
    session: Session, username: str, password: str, role: str, trust: str | None = None
) -> AdminUser:
    """Make an account; AccountError says what is wrong with the name, password or role."""
    if not _USERNAME.match(username):
        raise AccountError(
            f"{username!r} is not a username (2-100 letters, digits and . _ @ -, no spaces)",
            "username",
        )
    _check_password(password)
    if role not in ROLES:
        raise AccountError(f"role {role!r}: use {' or '.join(ROLES)}", "role")
    if role == "lead" and not trust:
        raise AccountError(
            "an organisation lead needs a trust (their organisation's code, --trust)", "trust"
        )
    if role == "administrator" and trust:
        raise AccountError("an administrator sees every trust: give no trust (--trust)", "trust")
    if session.scalar(select(AdminUser.id).where(AdminUser.username == username)):
        raise AccountError(f"there is already an account {username!r}", "username")
    organisation_id = None
    if trust:
        organisation_id = session.scalar(select(Organisation.id).where(Organisation.code == trust))
        if organisation_id is None:
            raise AccountError(f"no organisation {trust!r} (import its contacts first)", "trust")
    user = AdminUser(
        username=username,
        password_hash=_hasher.hash(password),
        role=role,
        organisation_id=organisation_id,
        failed_logins=0,
        created_at=_now(),
    )
    session.add(user)
    session.flush()
    return user


def count_users(session: Session) -> int:
    return len(session.scalars(select(AdminUser.id)).all())


@dataclass(frozen=True)
class LoginResult:
    token: str | None
    principal: Principal | None
    locked: bool = False


def login(session: Session, username: str, password: str, *, client: str = "") -> LoginResult:
    """Check a password; on success a new session token (its hash stored)."""
    now = _now()
    user = session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        audit(session, username or "?", "login failed", detail={"client": client, "why": "unknown"})
        return LoginResult(None, None)
    if user.deactivated_at is not None:
        # Answered like a wrong password: a closed account is not confirmed to exist.
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        audit(session, username, "login refused", detail={"client": client, "why": "deactivated"})
        return LoginResult(None, None)
    if user.locked_until is not None and user.locked_until > now:
        # As long as a wrong password takes, so that timing does not tell a locked (hence
        # real) account from an unknown name either.
        with contextlib.suppress(VerificationError):
            _hasher.verify(_DUMMY_HASH, password)
        audit(session, username, "login refused", detail={"client": client, "why": "locked"})
        return LoginResult(None, None, locked=True)
    try:
        _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_logins += 1
        locked = user.failed_logins >= MAX_FAILURES
        if locked:
            user.locked_until = now + dt.timedelta(minutes=LOCK_MINUTES)
            user.failed_logins = 0
            session.execute(delete(AdminSession).where(AdminSession.user_id == user.id))
        audit(
            session,
            username,
            "account locked" if locked else "login failed",
            detail={"client": client},
        )
        return LoginResult(None, None, locked=locked)
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    token = secrets.token_urlsafe(32)
    session.add(AdminSession(token_hash=_hash(token), user_id=user.id, created_at=now, seen_at=now))
    audit(session, username, "login", detail={"client": client})
    session.flush()
    return LoginResult(token, _principal(session, user))


def principal_for(session: Session, token: str | None) -> Principal | None:
    """The user of a session token, or None when it is unknown or expired."""
    if not token or len(token) > 100:
        return None
    now = _now()
    row = session.get(AdminSession, _hash(token))
    if row is None:
        return None
    idle = now - row.seen_at > dt.timedelta(minutes=IDLE_MINUTES)
    old = now - row.created_at > dt.timedelta(hours=MAX_SESSION_HOURS)
    user = session.get(AdminUser, row.user_id)
    if idle or old or user is None or not _usable(user, now):
        session.delete(row)
        return None
    if now - row.seen_at > dt.timedelta(minutes=1):
        row.seen_at = now
    return _principal(session, user)


def logout(session: Session, token: str | None, username: str) -> None:
    if token:
        session.execute(delete(AdminSession).where(AdminSession.token_hash == _hash(token)))
    audit(session, username, "logout")


def audit(
    session: Session,
    actor: str,
    action: str,
    target: str | None = None,
    detail: dict[str, object] | None = None,
) -> None:
    """Write one line of the audit log (in the caller's transaction)."""
    session.add(
        AuditEntry(
            at=_now(),
            actor=actor[:100],
            action=action[:64],
            target=target[:300] if target else None,
            detail=json.dumps(detail, sort_keys=True, default=str) if detail else None,
        )
    )


def audit_entries(session: Session, limit: int = 200) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)))


# -- managing accounts (administrators) --------------------------------------------------------


@dataclass(frozen=True)
class Account:
    """One account as the account management page lists it."""

    username: str
    role: str
    trust: str | None
    locked: bool
    active: bool
    last_login: dt.datetime | None
    created: dt.datetime


def accounts_list(session: Session) -> list[Account]:
    """Every account, active ones first, then by name."""
    now = _now()
    rows = session.execute(
        select(AdminUser, Organisation.code)
        .outerjoin(Organisation, Organisation.id == AdminUser.organisation_id)
        .order_by(AdminUser.deactivated_at.is_not(None), AdminUser.username)
    )
    return [_account(user, code, now) for user, code in rows]


def find_account(session: Session, username: str) -> Account | None:
    row = session.execute(
        select(AdminUser, Organisation.code)
        .outerjoin(Organisation, Organisation.id == AdminUser.organisation_id)
        .where(AdminUser.username == username)
    ).first()
    return _account(row[0], row[1], _now()) if row else None


def generate_password() -> str:
    """A random password to give a person once: 20 characters without look-alikes (l, 1, O, 0)."""
    letters = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    groups = ["".join(secrets.choice(letters) for _ in range(5)) for _ in range(4)]
    return "-".join(groups)  # about 114 bits


def create_account(
    session: Session,
    actor: str,
    username: str,
    role: str,
    trust: str | None = None,
    password: str | None = None,
) -> str | None:
    """Make an account for someone; returns the generated password when none was given."""
    generated = generate_password() if not password else None
    create_user(session, username, password or str(generated), role, trust)
    detail: dict[str, object] = {"role": role, "password": "generated" if generated else "set"}
    if trust:
        detail["trust"] = trust
    audit(session, actor, "create account", username, detail)
    return generated


def unlock(session: Session, actor: str, username: str) -> None:
    """Lift a lockout now, instead of after LOCK_MINUTES."""
    user = _active_user(session, username)
    if user.locked_until is None or user.locked_until <= _now():
        raise AccountError(f"the account {username!r} is not locked")
    user.locked_until = None
    user.failed_logins = 0
    audit(session, actor, "unlock account", username)


def deactivate(session: Session, actor: str, username: str) -> None:
    """Close an account for good: it cannot sign in, and its sessions end at once."""
    user = _active_user(session, username)
    last = AccountError(
        f"{username!r} is the last active administrator and cannot be deactivated: "
        "create another administrator first"
    )
    if user.role == "administrator" and _active_administrators(session, lock=True) <= 1:
        raise last
    user.deactivated_at = _now()
    session.flush()
    # Counted again after the change, for SQLite, which ignores FOR UPDATE: a concurrent
    # deactivation waits for ours to commit before it can write, and then counts none.
    if user.role == "administrator" and _active_administrators(session) == 0:
        raise last
    session.execute(delete(AdminSession).where(AdminSession.user_id == user.id))
    audit(session, actor, "deactivate account", username)


def _active_administrators(session: Session, *, lock: bool = False) -> int:
    query = select(AdminUser.id).where(
        AdminUser.role == "administrator", AdminUser.deactivated_at.is_(None)
    )
    # Locking the active administrators' rows makes two administrators deactivating each
    # other at the same moment take turns on PostgreSQL: the second then sees the first's
    # change and is refused.
    return len(session.scalars(query.with_for_update() if lock else query).all())


def reset_password(
    session: Session, actor: str, username: str, password: str | None = None
) -> str | None:
    """Give an account a new password (generated and returned when none is given).

    The account's sessions end, so whoever knew the old password is signed out too; a
    lockout stays until it runs out or is lifted with `unlock`.
    """
    user = _active_user(session, username)
    generated = generate_password() if not password else None
    new = password or str(generated)
    _check_password(new)
    user.password_hash = _hasher.hash(new)
    user.failed_logins = 0
    session.execute(delete(AdminSession).where(AdminSession.user_id == user.id))
    audit(
        session,
        actor,
        "reset password",
        username,
        {"password": "generated" if generated else "set"},
    )
    return generated


def _active_user(session: Session, username: str) -> AdminUser:
    user = session.scalar(select(AdminUser).where(AdminUser.username == username))
    if user is None:
        raise AccountError(f"there is no account {username!r}")
    if user.deactivated_at is not None:
        raise AccountError(f"the account {username!r} is deactivated")
    return user


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must be at least {MIN_PASSWORD} characters", "password")


def _usable(user: AdminUser, now: dt.datetime) -> bool:
    locked = user.locked_until is not None and user.locked_until > now
    return user.deactivated_at is None and not locked


def _account(user: AdminUser, code: str | None, now: dt.datetime) -> Account:
    return Account(
        username=user.username,
        role=user.role,
        trust=code,
        locked=user.locked_until is not None and user.locked_until > now,
        active=user.deactivated_at is None,
        last_login=user.last_login_at,
        created=user.created_at,
    )


def _principal(session: Session, user: AdminUser) -> Principal:
    code = None
    if user.organisation_id is not None:
        code = session.scalar(
            select(Organisation.code).where(Organisation.id == user.organisation_id)
        )
    return Principal(user.id, user.username, user.role, code)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now() -> dt.datetime:
    return stored_now()  # UTC: the admin pages show it in the study's zone
