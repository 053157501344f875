"""The admin pages in a real headless Chromium (Playwright), served by uvicorn."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from adminhelpers import PASSWORD, Site, sign_in
from sqlalchemy import select
from webhelpers import LiveServer

from sharedground.fieldwork import accounts
from sharedground.store import Response


def _sign_in(new_context: Callable[..., Any], server: LiveServer, username: str) -> Any:
    return sign_in(new_context().new_page(), server, username)


def test_lead_reaches_only_their_own_trust(
    site: Site, server: LiveServer, new_context: Callable[..., Any]
) -> None:
    page = _sign_in(new_context, server, "lead-a")
    page.click("text=Monitoring (RA1)")
    page.wait_for_url("**/trusts/RA1/monitor")
    groups = page.eval_on_selector_all(
        "#by-trust tbody tr", "rows => rows.map(r => r.dataset.group)"
    )
    assert groups == ["RA1"]
    assert page.locator("#daily-chart svg").count() in (0, 1)
    for url in (
        "/admin/waves/w/trusts/RB2/monitor",
        "/admin/waves/w/trusts/RB2/results",
        "/admin/waves/w/contacts",
        "/admin/waves/w/contacts?trust=RB2",
        f"/admin/paper/{site.serials['RB2'][0]}",
        "/admin/audit",
    ):
        response = page.goto(f"{server.url}{url}")
        assert response is not None and response.status == 403, url
        assert page.locator("h1").inner_text() == "You do not have access to this page"
        assert "@example.org" not in page.content()
    response = page.goto(f"{server.url}/admin/waves/w/trusts/RA1/results")
    assert response is not None and response.status == 200


def test_double_entry_and_reconciliation_in_the_browser(
    site: Site, server: LiveServer, new_context: Callable[..., Any]
) -> None:
    with site.store.session() as session:
        accounts.create_user(session, "keyer2", PASSWORD, "administrator")
    serial = site.serials["RB2"][1]

    first = _sign_in(new_context, server, "admin")
    first.click("text=Paper entry")
    first.fill("#serial", serial.replace("-", ""))
    first.click("#find")
    first.wait_for_url(f"**/admin/paper/{serial}")
    first.select_option("#f-role", "medical_director")
    first.select_option("#f-local_rating", "3")
    first.select_option("#f-power_balance_right", "tend_to_agree")
    first.check("#f-barriers-lack_trust")
    first.click("#save-keying")
    assert first.locator("#status").inner_text() == "keying"

    second = _sign_in(new_context, server, "keyer2")
    second.goto(f"{server.url}/admin/paper/{serial}")
    assert second.locator("#f-local_rating").input_value() == ""  # blind
    second.select_option("#f-role", "medical_director")
    second.select_option("#f-local_rating", "3")
    second.select_option("#f-power_balance_right", "strongly_agree")
    second.check("#f-barriers-lack_trust")
    second.click("#save-keying")
    second.wait_for_url(f"**/admin/paper/{serial}/reconcile")
    fields = second.eval_on_selector_all(
        "#discrepancies tbody tr", "rows => rows.map(r => r.dataset.field)"
    )
    assert fields == ["power_balance_right"]
    second.check("#f-power_balance_right-first")
    second.click("#save-reconcile")
    assert second.locator("#status").inner_text() == "reconciled"
    with site.store.session() as session:
        [stored] = session.scalars(select(Response)).all()
    assert stored.role == "medical_director"
    assert stored.answers == {
        "local_rating": "3",
        "power_balance_right": "tend_to_agree",
        "barriers": "lack_trust",
    }


def test_create_and_deactivate_an_account_in_the_browser(
    site: Site, server: LiveServer, new_context: Callable[..., Any]
) -> None:
    admin = _sign_in(new_context, server, "admin")
    admin.click("#manage-accounts")
    admin.wait_for_url("**/admin/accounts")
    admin.fill("#username", "lead-new")
    admin.check("#role-lead")
    admin.select_option("#trust", "RA1")
    admin.click("#create-button")
    password = admin.locator("#new-password-value").inner_text()
    assert admin.locator('tr[data-username="lead-new"] td[data-column="trust"]').inner_text() == (
        "RA1"
    )

    lead = new_context().new_page()
    lead.goto(f"{server.url}/admin/login")
    lead.fill("#username", "lead-new")
    lead.fill("#password", password)
    lead.click("#sign-in")
    lead.wait_for_url(f"{server.url}/admin")
    assert lead.locator("#manage-accounts").count() == 0
    response = lead.goto(f"{server.url}/admin/accounts")
    assert response is not None and response.status == 403

    admin.click('#accounts a[href="/admin/accounts/lead-new"]')
    admin.wait_for_url("**/admin/accounts/lead-new")
    admin.click("#deactivate")
    assert admin.locator('[data-field="state"]').inner_text() == "Deactivated"
    lead.goto(f"{server.url}/admin/waves/w/trusts/RA1/monitor")
    assert "/admin/login" in lead.url  # signed out at once
