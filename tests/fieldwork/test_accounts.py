"""Managing admin accounts in the library: generated passwords, deactivation, the last admin."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from sharedground.fieldwork import accounts
from sharedground.fieldwork.accounts import AccountError
from sharedground.store import Store
from sharedground.store.schema import AdminUser

PASSWORD = "a-long-test-password"


def test_generated_passwords_are_long_random_and_unambiguous() -> None:
    made = {accounts.generate_password() for _ in range(200)}
    assert len(made) == 200
    for password in made:
        assert len(password) >= accounts.MIN_PASSWORD
        assert not set(password) & set("lI1O0o")


def test_a_deactivated_account_cannot_sign_in_and_its_session_ends(store: Store) -> None:
    with store.session() as session:
        accounts.create_user(session, "boss", PASSWORD, "administrator")
        accounts.create_user(session, "other", PASSWORD, "administrator")
        token = accounts.login(session, "other", PASSWORD).token
        assert accounts.principal_for(session, token) is not None
    with store.session() as session:
        accounts.deactivate(session, "boss", "other")
    with store.session() as session:
        assert accounts.principal_for(session, token) is None
        assert accounts.login(session, "other", PASSWORD).token is None
        with pytest.raises(AccountError, match="deactivated"):
            accounts.reset_password(session, "boss", "other")
        listed = {a.username: a.active for a in accounts.accounts_list(session)}
    assert listed == {"boss": True, "other": False}


def test_two_administrators_deactivating_each_other_at_once_leave_one(store: Store) -> None:
    """Each would pass the last-administrator check alone; together one must be refused."""
    with store.session() as session:
        accounts.create_user(session, "one", PASSWORD, "administrator")
        accounts.create_user(session, "two", PASSWORD, "administrator")
    first_done = threading.Event()
    outcome: dict[str, str] = {}

    def first() -> None:
        with store.session() as session:
            accounts.deactivate(session, "one", "two")
            first_done.set()
            time.sleep(0.5)  # still uncommitted while the second tries
        outcome["first"] = "done"

    def second() -> None:
        first_done.wait(10)
        try:
            with store.session() as session:
                accounts.deactivate(session, "two", "one")
            outcome["second"] = "done"
        except AccountError:
            outcome["second"] = "refused"
        except OperationalError:  # SQLite: the database was locked by the first
            outcome["second"] = "refused"

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcome == {"first": "done", "second": "refused"}
    with store.session() as session:
        active = session.scalars(
            select(AdminUser.username).where(AdminUser.deactivated_at.is_(None))
        ).all()
    assert active == ["one"]
