"""Account management on the admin pages: list, create, unlock, deactivate, new password."""

from __future__ import annotations

import json

import pytest
from adminhelpers import PASSWORD, Site, login
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import csrf_of, parse, text_of, texts_of

from sharedground.fieldwork import accounts
from sharedground.store.schema import AdminSession, AdminUser, AuditEntry


def _rows(page: LexborHTMLParser) -> dict[str, dict[str, str]]:
    return {
        tr.attributes["data-username"] or "": {
            td.attributes["data-column"] or "": td.text().strip() for td in tr.css("td")
        }
        for tr in page.css("#accounts tbody tr")
    }


def _post(
    client: TestClient, form_page: str, url: str, data: dict[str, str] | None = None
) -> tuple[int, LexborHTMLParser]:
    page = parse(client.get(form_page).text)
    response = client.post(url, data={"csrf_token": csrf_of(page), **(data or {})})
    return response.status_code, parse(response.text)


def _audit(site: Site, action: str) -> list[tuple[str, str | None, dict[str, object]]]:
    with site.store.session() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == action)).all()
        return [(e.actor, e.target, json.loads(e.detail or "{}")) for e in entries]


def _client(site: Site) -> TestClient:
    return TestClient(site.app(), base_url="https://testserver")


def test_accounts_are_listed_and_linked_from_the_home_page(admin_client: TestClient) -> None:
    assert login(admin_client, "admin") == 303
    home = parse(admin_client.get("/admin").text)
    link = home.css_first("#manage-accounts")
    assert link is not None and link.attributes["href"] == "/admin/accounts"
    assert "/admin/accounts" in [a.attributes["href"] for a in home.css("nav a")]
    rows = _rows(parse(admin_client.get("/admin/accounts").text))
    assert set(rows) == {"admin", "lead-a", "lead-b"}
    assert rows["admin"]["role"] == "Study administrator" and rows["admin"]["trust"] == "–"
    assert rows["lead-a"]["role"] == "Organisation lead" and rows["lead-a"]["trust"] == "RA1"
    assert {r["locked"] for r in rows.values()} == {"No"}
    assert {r["state"] for r in rows.values()} == {"Active"}
    assert rows["lead-b"]["last-login"] == "never"
    assert rows["admin"]["last-login"][:4].isdigit()  # a date: admin just signed in


def test_a_lead_reaches_no_account_page_nor_action(site: Site) -> None:
    with _client(site) as admin, _client(site) as lead:
        login(admin, "admin")
        login(lead, "lead-a")
        home = parse(lead.get("/admin").text)
        assert home.css_first("#manage-accounts") is None
        assert "/admin/accounts" not in [a.attributes["href"] for a in home.css("nav a")]
        for url in ("/admin/accounts", "/admin/accounts/lead-b", "/admin/accounts/admin"):
            assert lead.get(url).status_code == 403, url
        # A lead's own valid CSRF token changes nothing.
        token = csrf_of(home)
        posts = {
            "/admin/accounts": {"username": "sneaky", "role": "administrator", "password": ""},
            "/admin/accounts/lead-b/deactivate": {},
            "/admin/accounts/lead-b/password": {"password": "lead-a-knows-this"},
            "/admin/accounts/lead-b/unlock": {},
        }
        for url, data in posts.items():
            response = lead.post(url, data={"csrf_token": token, **data})
            assert response.status_code == 403, url
            assert "data-username" not in response.text
        rows = _rows(parse(admin.get("/admin/accounts").text))
    assert set(rows) == {"admin", "lead-a", "lead-b"}
    assert rows["lead-b"]["state"] == "Active"
    assert login(TestClient(site.app()), "lead-b") == 303  # the password is unchanged
    refused = {(actor, target) for actor, target, _d in _audit(site, "refused: manage accounts")}
    assert ("lead-a", "/admin/accounts/lead-b/deactivate") in refused
    assert ("lead-a", "/admin/accounts") in refused


def test_create_a_lead_with_a_password_shown_once(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    status, page = _post(
        admin_client,
        "/admin/accounts",
        "/admin/accounts",
        {"username": "lead-c", "role": "lead", "trust": "RB2", "password": ""},
    )
    assert status == 200
    password = text_of(page, "#new-password-value")
    assert len(password) >= accounts.MIN_PASSWORD
    assert _rows(page)["lead-c"]["trust"] == "RB2"
    # Shown once: the page opened again does not have it.
    assert parse(admin_client.get("/admin/accounts").text).css_first("#new-password") is None
    with site.store.session() as session:
        user = session.scalar(select(AdminUser).where(AdminUser.username == "lead-c"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
    [(actor, target, detail)] = _audit(site, "create account")
    assert (actor, target, detail) == (
        "admin",
        "lead-c",
        {"role": "lead", "trust": "RB2", "password": "generated"},
    )
    with _client(site) as lead:
        assert login(lead, "lead-c", password) == 303
        assert lead.get("/admin/waves/w/trusts/RB2/monitor").status_code == 200
        assert lead.get("/admin/waves/w/trusts/RA1/monitor").status_code == 403


def test_create_an_administrator_with_a_chosen_password(
    site: Site, admin_client: TestClient
) -> None:
    login(admin_client, "admin")
    status, page = _post(
        admin_client,
        "/admin/accounts",
        "/admin/accounts",
        {"username": "admin2", "role": "administrator", "trust": "", "password": "chosen-by-admin"},
    )
    assert status == 200 and page.css_first("#new-password") is None
    assert _rows(page)["admin2"]["role"] == "Study administrator"
    assert _audit(site, "create account")[0][2]["password"] == "set"
    with _client(site) as other:
        assert login(other, "admin2", "chosen-by-admin") == 303
        assert other.get("/admin/accounts").status_code == 200


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"username": "has space", "role": "lead", "trust": "RA1"}, "username", "not a username"),
        ({"username": "lead-a", "role": "lead", "trust": "RA1"}, "username", "already"),
        ({"username": "lead-x", "role": "lead", "trust": ""}, "trust", "needs a trust"),
        ({"username": "lead-x", "role": "", "trust": ""}, "role", "role"),
        ({"username": "x2", "role": "lead", "trust": "RA1", "password": "short"}, "password", "12"),
    ],
)
def test_a_bad_account_form_names_the_field(
    site: Site, admin_client: TestClient, data: dict[str, str], field: str, words: str
) -> None:
    login(admin_client, "admin")
    status, page = _post(admin_client, "/admin/accounts", "/admin/accounts", data)
    assert status == 422
    summary = page.css_first(".nhsuk-error-summary a")
    assert summary is not None and summary.attributes["href"] == f"#{field}"
    assert words in summary.text()
    assert page.css_first(f"#{field}") is not None
    assert texts_of(page, ".nhsuk-form-group--error .nhsuk-error-message") == [
        "Error: " + summary.text().strip()
    ]
    with site.store.session() as session:
        assert accounts.count_users(session) == 3
    assert _audit(site, "refused: create account")[0][0] == "admin"


def test_forms_without_a_csrf_token_are_refused(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    data = {"username": "lead-z", "role": "lead", "trust": "RA1", "password": ""}
    assert admin_client.post("/admin/accounts", data=data).status_code == 403
    assert admin_client.post("/admin/accounts/lead-a/deactivate").status_code == 403
    page = parse(admin_client.get("/admin/accounts").text)
    assert "lead-z" not in _rows(page) and _rows(page)["lead-a"]["state"] == "Active"


def test_unlock_a_locked_account(site: Site, admin_client: TestClient) -> None:
    with _client(site) as lead:
        for _ in range(accounts.MAX_FAILURES):
            login(lead, "lead-a", "not-the-password")
        assert login(lead, "lead-a") == 401
    login(admin_client, "admin")
    assert _rows(parse(admin_client.get("/admin/accounts").text))["lead-a"]["locked"] == "Locked"
    page = parse(admin_client.get("/admin/accounts/lead-a").text)
    assert text_of(page, '[data-field="locked"]').startswith("Locked")
    status, page = _post(admin_client, "/admin/accounts/lead-a", "/admin/accounts/lead-a/unlock")
    assert status == 200 and text_of(page, '[data-field="locked"]') == "No"
    assert page.css_first("#unlock") is None
    with _client(site) as lead:
        assert login(lead, "lead-a") == 303
    assert [(a, t) for a, t, _d in _audit(site, "unlock account")] == [("admin", "lead-a")]
    # Unlocking an account that is not locked says so.
    status, page = _post(admin_client, "/admin/accounts/lead-a", "/admin/accounts/lead-a/unlock")
    assert status == 409 and "not locked" in text_of(page, ".nhsuk-error-summary")


def test_deactivation_ends_the_accounts_sessions_at_once(
    site: Site, admin_client: TestClient
) -> None:
    with _client(site) as lead:
        login(lead, "lead-b")
        assert lead.get("/admin/waves/w/trusts/RB2/monitor").status_code == 200
        login(admin_client, "admin")
        status, page = _post(
            admin_client, "/admin/accounts/lead-b", "/admin/accounts/lead-b/deactivate"
        )
        assert status == 200 and text_of(page, '[data-field="state"]') == "Deactivated"
        assert (
            page.css_first("#deactivated") is not None
            and page.css_first("form#password-form") is None
        )
        response = lead.get("/admin/waves/w/trusts/RB2/monitor", follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"].startswith("/admin/login")
        assert login(lead, "lead-b") == 401
    with site.store.session() as session:
        user = session.scalar(select(AdminUser).where(AdminUser.username == "lead-b"))
        assert user is not None and user.deactivated_at is not None
        assert (
            session.scalars(select(AdminSession).where(AdminSession.user_id == user.id)).all() == []
        )
    assert (
        _rows(parse(admin_client.get("/admin/accounts").text))["lead-b"]["state"] == "Deactivated"
    )
    assert [(a, t) for a, t, _d in _audit(site, "deactivate account")] == [("admin", "lead-b")]
    assert ("lead-b", "deactivated") in [
        (a, d.get("why")) for a, _t, d in _audit(site, "login refused")
    ]


def test_the_last_active_administrator_cannot_be_deactivated(
    site: Site, admin_client: TestClient
) -> None:
    login(admin_client, "admin")
    status, page = _post(admin_client, "/admin/accounts/admin", "/admin/accounts/admin/deactivate")
    assert status == 409
    assert "last active administrator" in text_of(page, ".nhsuk-error-summary")
    assert text_of(page, '[data-field="state"]') == "Active"
    assert admin_client.get("/admin/accounts").status_code == 200  # still signed in
    [(actor, target, detail)] = _audit(site, "refused: deactivate account")
    assert (actor, target) == ("admin", "admin") and "last" in str(detail["why"])
    # With a second administrator, the first may go; then the second is the last.
    _post(
        admin_client,
        "/admin/accounts",
        "/admin/accounts",
        {"username": "admin2", "role": "administrator", "password": "second-admin-pass"},
    )
    status, _page = _post(admin_client, "/admin/accounts/admin", "/admin/accounts/admin/deactivate")
    assert status == 200
    assert admin_client.get("/admin", follow_redirects=False).status_code == 303  # signed out
    with _client(site) as second:
        login(second, "admin2", "second-admin-pass")
        status, _page = _post(second, "/admin/accounts/admin2", "/admin/accounts/admin2/deactivate")
        assert status == 409


def test_reset_a_password(site: Site, admin_client: TestClient) -> None:
    with _client(site) as lead:
        login(lead, "lead-a")
        login(admin_client, "admin")
        status, page = _post(
            admin_client, "/admin/accounts/lead-a", "/admin/accounts/lead-a/password"
        )
        assert status == 200
        generated = text_of(page, "#new-password-value")
        # Whoever was signed in with the old password is signed out.
        assert lead.get("/admin", follow_redirects=False).status_code == 303
        assert login(lead, "lead-a", PASSWORD) == 401
        assert login(lead, "lead-a", generated) == 303
    status, page = _post(
        admin_client,
        "/admin/accounts/lead-a",
        "/admin/accounts/lead-a/password",
        {"password": "too-short"},
    )
    assert status == 422
    assert page.css_first('.nhsuk-error-summary a[href="#password"]') is not None
    status, page = _post(
        admin_client,
        "/admin/accounts/lead-a",
        "/admin/accounts/lead-a/password",
        {"password": "the-admin-chose-this"},
    )
    assert status == 200 and page.css_first("#new-password") is None
    assert login(TestClient(site.app()), "lead-a", "the-admin-chose-this") == 303
    details = [(a, t, d["password"]) for a, t, d in _audit(site, "reset password")]
    assert details == [("admin", "lead-a", "generated"), ("admin", "lead-a", "set")]
    # The passwords themselves are in no audit entry.
    with site.store.session() as session:
        logged = " ".join(e.detail or "" for e in session.scalars(select(AuditEntry)))
    assert generated not in logged and "the-admin-chose-this" not in logged


def test_an_unknown_account_is_not_found(admin_client: TestClient) -> None:
    login(admin_client, "admin")
    assert admin_client.get("/admin/accounts/nobody").status_code == 404
    status, _page = _post(admin_client, "/admin/accounts", "/admin/accounts/nobody/unlock")
    assert status == 404
