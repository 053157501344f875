"""Admin pages show times in the study's time zone, and say which zone that is.

Instants are kept in UTC; the cases sit either side of midnight in London, where a page
showing the stored UTC time would put the last hour of a summer day on the wrong date.
"""

from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import pytest
from adminhelpers import Site, login
from selectolax.lexbor import LexborHTMLParser, LexborNode
from sqlalchemy import update
from starlette.testclient import TestClient
from webhelpers import parse, text_of

from sharedground.fieldwork import accounts
from sharedground.store.schema import AdminUser, AuditEntry
from sharedground.web import create_app


def _client(site: Site, timezone: str) -> TestClient:
    app = create_app(site.store, key=b"admin-test-key", timezone=timezone)
    return TestClient(app, base_url="https://testserver")


def _text(node: LexborNode | None) -> str:
    assert node is not None
    return re.sub(r"\s+", " ", node.text()).strip()


def _cells(page: LexborHTMLParser, column: str) -> dict[str, str]:
    return {
        tr.attributes["data-username"] or "": _text(tr.css_first(f'td[data-column="{column}"]'))
        for tr in page.css("#accounts tbody tr")
    }


@pytest.mark.parametrize(
    ("timezone", "lead_a", "lead_b"),
    [
        ("Europe/London", "2027-06-30 23:59:59 BST", "2027-07-01 00:00:00 BST"),
        ("UTC", "2027-06-30 22:59:59 UTC", "2027-06-30 23:00:00 UTC"),
    ],
)
def test_sign_in_times_are_shown_in_the_studys_zone(
    site: Site, timezone: str, lead_a: str, lead_b: str
) -> None:
    with site.store.session() as session:
        for username, at in (("lead-a", "2027-06-30 22:59:59"), ("lead-b", "2027-06-30 23:00:00")):
            stored = dt.datetime.fromisoformat(at)  # UTC, as the database keeps instants
            session.execute(
                update(AdminUser)
                .where(AdminUser.username == username)
                .values(last_login_at=stored, created_at=stored)
            )
    with _client(site, timezone) as client:
        assert login(client, "admin") == 303
        listed = parse(client.get("/admin/accounts").text)
        assert _cells(listed, "last-login") | {"admin": ""} == {
            "admin": "",
            "lead-a": lead_a,
            "lead-b": lead_b,
        }
        one = parse(client.get("/admin/accounts/lead-b").text)
        assert text_of(one, '[data-field="last-login"]') == lead_b
        assert text_of(one, '[data-field="created"]') == lead_b


def test_the_admins_own_sign_in_is_shown_at_the_utc_instant_in_london(site: Site) -> None:
    """A sign-in now is stored as UTC and shown as London's time of the same instant."""
    with _client(site, "Europe/London") as client:
        before = dt.datetime.now(dt.UTC).replace(microsecond=0)
        assert login(client, "admin") == 303
        after = dt.datetime.now(dt.UTC)
        with site.store.session() as session:
            user = accounts.find_account(session, "admin")
            assert user is not None and user.last_login is not None
            assert before.replace(tzinfo=None) <= user.last_login <= after.replace(tzinfo=None)
            stored = user.last_login
        shown = _cells(parse(client.get("/admin/accounts").text), "last-login")["admin"]
    expected = stored.replace(tzinfo=dt.UTC).astimezone(ZoneInfo("Europe/London"))
    assert shown == f"{expected:%Y-%m-%d %H:%M:%S} {expected.tzname()}"
    assert shown.endswith((" GMT", " BST"))


@pytest.mark.parametrize(
    ("timezone", "first", "second"),
    [
        ("Europe/London", "2027-01-14 23:59:59 GMT", "2027-01-15 00:00:00 GMT"),
        ("Europe/London", "2027-07-14 23:59:59 BST", "2027-07-15 00:00:00 BST"),
        ("Pacific/Auckland", "2027-01-15 12:59:59 NZDT", "2027-01-15 13:00:00 NZDT"),
    ],
)
def test_the_audit_log_shows_times_in_the_studys_zone(
    site: Site, timezone: str, first: str, second: str
) -> None:
    summer = ("2027-07-14 22:59:59", "2027-07-14 23:00:00")
    winter = ("2027-01-14 23:59:59", "2027-01-15 00:00:00")
    instants = summer if "BST" in first else winter
    with site.store.session() as session:
        for actor, at in zip(("clock-one", "clock-two"), instants, strict=True):
            accounts.audit(session, actor, "test entry")
            session.flush()
            session.execute(
                update(AuditEntry)
                .where(AuditEntry.actor == actor)
                .values(at=dt.datetime.fromisoformat(at))
            )
    with _client(site, timezone) as client:
        assert login(client, "admin") == 303
        page = parse(client.get("/admin/audit").text)
    when = {_text(tr.css("td")[1]): _text(tr.css("td")[0]) for tr in page.css("#audit tbody tr")}
    assert (when["clock-one"], when["clock-two"]) == (first, second)
