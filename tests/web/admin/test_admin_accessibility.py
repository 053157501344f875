"""axe-core on every admin page type in real Chromium; any serious or critical violation fails.

The pages are filled first, so that axe sees what a user does: a monitoring chart, results
above the suppression threshold, a questionnaire with discrepancies to reconcile, forms
with their errors shown.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

import pytest
from adminhelpers import PASSWORD, Site, sign_in
from cryptography.fernet import Fernet
from sqlalchemy import select
from webhelpers import LiveServer, axe_problems

from sharedground.fieldwork import paper
from sharedground.fieldwork.clock import study_today
from sharedground.fieldwork.mail import optout_url
from sharedground.fieldwork.personal import Sealer, ensure_links
from sharedground.store import Contact
from sharedground.text import disclosure
from sharedground.text.disclosure import wait_for_decisions

pytestmark = pytest.mark.slow

ANSWERS = {
    "role": "chief_executive",
    "local_rating": "4",
    "power_balance_right": "tend_to_agree",
    "barriers": "lack_trust;other",
}


def _fill(site: Site) -> tuple[str, str, str]:
    """Six reconciled RA1 returns, one discrepant RB2 return; an opt-out token.

    Returns (discrepant serial, a serial not yet keyed, opt-out token)."""
    with site.store.session() as session:
        for serial in site.serials["RA1"][:6]:
            paper.key_questionnaire(session, serial, ANSWERS, "keyer-1")
            paper.key_questionnaire(session, serial, ANSWERS, "keyer-2")
        discrepant = site.serials["RB2"][0]
        paper.key_questionnaire(session, discrepant, ANSWERS, "keyer-1")
        paper.key_questionnaire(session, discrepant, {**ANSWERS, "local_rating": "2"}, "keyer-2")
        wave = site.store.get_wave(session, site.wave)
        contact = session.scalars(select(Contact).where(Contact.serial.is_(None))).first()
        contact = contact or session.scalars(select(Contact).order_by(Contact.id.desc())).first()
        assert contact is not None
        token = ensure_links(session, wave, [contact], Sealer(Fernet.generate_key()))[contact.id]
    return discrepant, site.serials["RB2"][1], token


def test_every_admin_page_type_passes_axe(
    site: Site,
    server: LiveServer,
    new_context: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing remembered from another test: the same wave on the other database has the
    # same data, so its decision would be found made and the page never show its
    # "being checked" form (CI, PostgreSQL after SQLite).
    monkeypatch.setattr(disclosure, "_remembered", OrderedDict())
    discrepant, unkeyed, token = _fill(site)
    seen: dict[str, list[str]] = {}
    page = new_context(bypass_csp=True).new_page()

    def check(page: Any, what: str, url: str | None = None, status: int = 200) -> None:
        if url is not None:
            response = page.goto(f"{server.url}{url}")
            assert response is not None and response.status == status, (what, response)
        seen[what] = axe_problems(page)

    check(page, "login", "/admin/login")
    page.fill("#username", "admin")
    page.fill("#password", "not-the-password")
    page.click("#sign-in")
    page.wait_for_selector(".nhsuk-error-summary")
    check(page, "login error")
    sign_in(page, server, "admin")
    check(page, "home")
    check(page, "monitoring", "/admin/waves/w/monitor")
    assert page.locator("#daily-chart svg").count() == 1
    check(page, "trust monitoring", "/admin/waves/w/trusts/RA1/monitor")
    check(page, "contacts", "/admin/waves/w/contacts")
    check(page, "paper list", "/admin/waves/w/paper")
    check(page, "paper serial error", "/admin/waves/w/paper?serial=123")
    check(page, "paper keying", f"/admin/paper/{unkeyed}")
    page.select_option("#f-local_rating", "4")
    page.fill("#f-comments_overall", "x" * 5000)
    page.click("#save-keying")
    page.wait_for_selector(".nhsuk-error-summary")
    check(page, "paper keying error")
    check(page, "reconcile", f"/admin/paper/{discrepant}/reconcile")
    assert page.locator("#discrepancies tbody tr").count() == 1
    check(page, "audit", "/admin/audit")
    # Fieldwork over, so the results page shows its final figures: while fieldwork runs
    # it shows whole batches of five, one behind, and six returns make none yet.
    with site.store.session() as session:
        wave = site.store.get_wave(session, "w")
        wave.closes = study_today() - dt.timedelta(days=1)
        wave.opens = wave.closes - dt.timedelta(days=30)
    # The first view after the close: the wave's decision is being made in the background.
    check(page, "results, final figures being checked", "/admin/waves/w/trusts/RA1/results")
    assert page.locator("#final-pending").count() == 1
    wait_for_decisions(timeout=120)
    check(page, "results", "/admin/waves/w/trusts/RA1/results")
    assert page.locator("#final-pending").count() == 0
    assert page.locator("table[data-question]").count() > 0
    check(page, "results suppressed", "/admin/waves/w/trusts/RB2/results")
    check(page, "accounts", "/admin/accounts")
    page.fill("#username", "has space")
    page.click("#create-button")
    page.wait_for_selector(".nhsuk-error-summary")
    check(page, "accounts form error")
    page.fill("#username", "lead-new")
    page.check("#role-lead")
    page.select_option("#trust", "RA1")
    page.click("#create-button")
    page.wait_for_selector("#new-password")
    check(page, "account created, password shown")
    check(page, "account", "/admin/accounts/lead-a")
    check(page, "no such wave", "/admin/waves/nowhere/monitor", 404)

    page = sign_in(new_context(bypass_csp=True).new_page(), server, "lead-b", PASSWORD)
    check(page, "lead home")
    check(page, "403 page", "/admin/audit", 403)

    page = new_context(bypass_csp=True).new_page()
    check(page, "opt-out", optout_url("", token))
    page.click("#opt-out")
    page.wait_for_selector("h1:has-text('no more messages')")
    check(page, "opt-out confirmation")
    check(page, "opt-out unknown link", optout_url("", "x" * 32), 404)

    assert len(seen) == 25
    assert {k: v for k, v in seen.items() if v} == {}
