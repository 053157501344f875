"""Signing in: argon2 passwords, secure cookies, CSRF, lockout, audit log."""

from __future__ import annotations

from adminhelpers import PASSWORD, Site, login
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import parse, text_of

from sharedground.fieldwork import accounts
from sharedground.store.schema import AdminSession, AdminUser, AuditEntry
from sharedground.web.admin.login import REFUSED


def test_password_is_stored_as_argon2_and_sign_in_sets_a_secure_cookie(
    site: Site, admin_client: TestClient
) -> None:
    with site.store.session() as session:
        user = session.scalar(select(AdminUser).where(AdminUser.username == "admin"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
        assert PASSWORD not in user.password_hash
    page = parse(admin_client.get("/admin/login").text)
    from webhelpers import csrf_of

    response = admin_client.post(
        "/admin/login",
        data={
            "csrf_token": csrf_of(page),
            "username": "admin",
            "password": PASSWORD,
            "next": "/admin",
        },
        follow_redirects=False,
    )
    assert response.status_code == 303 and response.headers["location"] == "/admin"
    cookie = next(
        v for k, v in response.headers.multi_items() if k == "set-cookie" and "sg_admin" in v
    )
    parts = {p.strip().split("=")[0].lower() for p in cookie.split(";")}
    assert {"httponly", "secure", "samesite", "path"} <= parts
    assert "samesite=strict" in cookie.lower() and "path=/admin" in cookie.lower()
    token = cookie.split(";")[0].split("=", 1)[1]
    with site.store.session() as session:
        stored = session.scalars(select(AdminSession.token_hash)).all()
    assert token not in stored and len(stored) == 1  # only a hash is kept
    home = parse(admin_client.get("/admin").text)
    assert "w" in [n.text().strip() for n in home.css("#waves td:first-child")]


def test_wrong_password_and_unknown_user_look_the_same(admin_client: TestClient) -> None:
    assert login(admin_client, "admin", "not-the-password") == 401
    assert login(admin_client, "nobody", "not-the-password") == 401


def test_login_without_csrf_token_is_refused(admin_client: TestClient) -> None:
    admin_client.get("/admin/login")
    response = admin_client.post(
        "/admin/login", data={"username": "admin", "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 403
    assert "sg_admin" not in response.headers.get("set-cookie", "")


def test_lockout_after_repeated_failures(site: Site, admin_client: TestClient) -> None:
    for _ in range(accounts.MAX_FAILURES):
        assert login(admin_client, "lead-a", "wrong-password-xx") == 401
    # Locked: even the right password is refused now.
    assert login(admin_client, "lead-a") == 401
    page = parse(admin_client.get("/admin/login").text)
    from webhelpers import csrf_of

    response = admin_client.post(
        "/admin/login",
        data={"csrf_token": csrf_of(page), "username": "lead-a", "password": PASSWORD},
    )
    # The same words as for a wrong password or an unknown name (no enumeration).
    assert text_of(parse(response.text), ".nhsuk-error-summary").endswith(REFUSED)
    with site.store.session() as session:
        actions = [
            e.action
            for e in session.scalars(select(AuditEntry).where(AuditEntry.actor == "lead-a"))
        ]
    assert actions.count("login failed") == accounts.MAX_FAILURES - 1
    assert "account locked" in actions and "login refused" in actions


def test_pages_need_a_session_and_logout_ends_it(admin_client: TestClient) -> None:
    response = admin_client.get("/admin/waves/w/monitor", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/admin/login")
    assert login(admin_client, "admin") == 303
    assert admin_client.get("/admin/waves/w/monitor").status_code == 200
    page = parse(admin_client.get("/admin").text)
    from webhelpers import csrf_of

    admin_client.post("/admin/logout", data={"csrf_token": csrf_of(page)})
    response = admin_client.get("/admin/waves/w/monitor", follow_redirects=False)
    assert response.status_code == 303


def test_every_action_is_audited(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    admin_client.get("/admin/waves/w/contacts")
    admin_client.get("/admin/waves/w/monitor")
    page = parse(admin_client.get("/admin/audit").text)
    rows = [[td.text().strip() for td in tr.css("td")] for tr in page.css("#audit tbody tr")]
    seen = {(r[1], r[2], r[3]) for r in rows}
    assert ("admin", "login", "") in seen
    assert ("admin", "view contacts", "/admin/waves/w/contacts") in seen
    assert ("admin", "view wave monitoring", "/admin/waves/w/monitor") in seen
