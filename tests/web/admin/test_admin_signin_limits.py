"""Sign-in answers reveal no accounts, and a client address is throttled across usernames.

Issue #15, item 4: only a real account answered "locked", so usernames could be listed;
and 30 attempts with different usernames from one address were never slowed. Now every
failure has the same answer (page, status, timing class), and failed sign-ins are counted
per client address in the database (table `guess`, scope "signin:"), shared by workers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from adminhelpers import PASSWORD, Site
from sqlalchemy import func, select, update
from starlette.testclient import TestClient
from webhelpers import csrf_of, parse, text_of

from sharedground.fieldwork import accounts
from sharedground.store.schema import AdminUser, Guess
from sharedground.web import create_app
from sharedground.web.admin.login import REFUSED
from sharedground.web.security import SIGNIN_LIMIT, DatabaseLedger, RateLimit

KEY = b"admin-test-key"


@contextmanager
def client_of(site: Site, address: str = "203.0.113.7", **kwargs: object) -> Iterator[TestClient]:
    app = create_app(site.store, key=KEY, **kwargs)  # type: ignore[arg-type]
    with TestClient(app, base_url="https://testserver", client=(address, 40000)) as client:
        yield client


def attempt(client: TestClient, username: str, password: str = "wrong-password-xx") -> tuple:
    """(status, error text, page with the username taken out, Retry-After)."""
    page = parse(client.get("/admin/login").text)
    response = client.post(
        "/admin/login",
        data={"csrf_token": csrf_of(page), "username": username, "password": password},
        follow_redirects=False,
    )
    if response.status_code == 303:
        return 303, "", "", None
    text = text_of(parse(response.text), ".nhsuk-error-summary")
    return (
        response.status_code,
        text,
        response.text.replace(f'value="{username}"', 'value=""'),
        response.headers.get("retry-after"),
    )


def test_unknown_locked_closed_and_wrong_look_the_same(site: Site) -> None:
    with site.store.session() as session:
        session.execute(
            update(AdminUser)
            .where(AdminUser.username == "lead-a")
            .values(locked_until=dt.datetime(2999, 1, 1))
        )
        session.execute(
            update(AdminUser)
            .where(AdminUser.username == "lead-b")
            .values(deactivated_at=dt.datetime(2000, 1, 1))
        )
    with client_of(site) as client:
        answers = {
            "wrong password": attempt(client, "admin"),
            "unknown": attempt(client, "nobody-here"),
            "locked, right password": attempt(client, "lead-a", PASSWORD),
            "locked, wrong password": attempt(client, "lead-a"),
            "deactivated": attempt(client, "lead-b", PASSWORD),
        }
    statuses = {a[0] for a in answers.values()}
    errors = {a[1] for a in answers.values()}
    pages = {a[2] for a in answers.values()}
    assert statuses == {401}
    assert len(errors) == 1 and errors.pop().endswith(REFUSED)
    assert len(pages) == 1  # byte for byte, once the echoed username is taken out


def test_the_fifth_wrong_password_answers_like_the_first(site: Site) -> None:
    """Locking an account on the spot must not say so either."""
    with client_of(site) as client:
        answers = [attempt(client, "lead-a")[1] for _ in range(accounts.MAX_FAILURES + 1)]
    assert len(set(answers)) == 1
    with site.store.session() as session:
        user = session.scalar(select(AdminUser).where(AdminUser.username == "lead-a"))
        assert user is not None and user.locked_until is not None


def test_one_address_is_throttled_across_usernames(site: Site) -> None:
    limit = SIGNIN_LIMIT.failures
    with client_of(site) as client:
        for i in range(limit):
            assert attempt(client, f"guess{i}")[0] == 401
        # Blocked now, even with a real account's right password: no password is checked.
        status, text, _, retry_after = attempt(client, "admin", PASSWORD)
        assert status == 429 and "Too many failed sign-ins" in text
        assert retry_after is not None and 0 < int(retry_after) <= SIGNIN_LIMIT.seconds + 1
    with site.store.session() as session:
        user = session.scalar(select(AdminUser).where(AdminUser.username == "admin"))
        assert user is not None and user.last_login_at is None
    # Another address is not held up by this one.
    with client_of(site, "198.51.100.9") as other:
        assert attempt(other, "admin", PASSWORD)[0] == 303


def test_the_count_is_shared_by_workers_and_ends_with_its_window(site: Site) -> None:
    clock = [dt.datetime(2027, 7, 1, 9, 0, tzinfo=dt.UTC)]
    limit = RateLimit(4, 300)

    def now() -> dt.datetime:
        return clock[0]

    # Two apps on one database are two workers: failures on either count for both.
    with (
        client_of(site, now=now, signin_limit=limit) as one,
        client_of(site, now=now, signin_limit=limit) as two,
    ):
        assert [attempt(c, f"x{i}")[0] for i, c in enumerate([one, two, one, two])] == [401] * 4
        assert attempt(one, "admin", PASSWORD)[0] == 429
        assert attempt(two, "admin", PASSWORD)[0] == 429
        clock[0] += dt.timedelta(seconds=301)
        assert attempt(two, "admin", PASSWORD)[0] == 303


def test_the_two_counts_are_kept_apart(site: Site) -> None:
    """Sign-in and token-guessing failures share the table but not counts or pruning."""
    tokens = DatabaseLedger(site.store, KEY)
    signins = DatabaseLedger(site.store, KEY, scope="signin:")
    assert tokens.client_key("1.2.3.4") != signins.client_key("1.2.3.4")
    assert signins.client_key("1.2.3.4").startswith("signin:")
    tokens.record("1.2.3.4", 100.0, 0.0, 10)
    signins.record("1.2.3.4", 100.0, 0.0, 10)
    signins.record("1.2.3.4", 101.0, 0.0, 10)
    assert len(tokens.recent("1.2.3.4", 0.0, 10)) == 1
    assert len(signins.recent("1.2.3.4", 0.0, 10)) == 2
    tokens.prune(1000.0)  # the token window is over; the sign-in one may not be
    with site.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Guess)) == 2
    signins.prune(1000.0)
    with site.store.session() as session:
        assert session.scalar(select(func.count()).select_from(Guess)) == 0
