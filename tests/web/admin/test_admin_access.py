"""Organisation leads: their own trust's monitoring and aggregate results, nothing else."""

from __future__ import annotations

import pytest
from adminhelpers import Site, login
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import parse

from sharedground.store.schema import AuditEntry

ADMIN_ONLY = [
    "/admin/waves/w/contacts",
    "/admin/waves/w/contacts?trust=RA1",
    "/admin/waves/w/paper",
    "/admin/audit",
]


@pytest.mark.parametrize("url", ADMIN_ONLY)
def test_lead_cannot_open_individual_level_pages(admin_client: TestClient, url: str) -> None:
    assert login(admin_client, "lead-a") == 303
    response = admin_client.get(url, follow_redirects=False)
    assert response.status_code == 403
    assert "@example.org" not in response.text


def test_lead_cannot_open_a_questionnaire_by_serial(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "lead-a")
    for serial in (site.serials["RA1"][0], site.serials["RB2"][0]):
        assert admin_client.get(f"/admin/paper/{serial}").status_code == 403


def test_lead_sees_own_trust_and_not_another(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "lead-a")
    own = admin_client.get("/admin/waves/w/trusts/RA1/monitor")
    assert own.status_code == 200
    trusts = [tr.attributes["data-group"] for tr in parse(own.text).css("#by-trust tbody tr")]
    assert trusts == ["RA1"]
    for url in ("/admin/waves/w/trusts/RB2/monitor", "/admin/waves/w/trusts/RB2/results"):
        response = admin_client.get(url)
        assert response.status_code == 403
        assert "RB2" not in " ".join(t.text() for t in parse(response.text).css("table"))
    # The whole-wave page sends a lead to their own trust.
    response = admin_client.get("/admin/waves/w/monitor", follow_redirects=False)
    assert response.headers["location"] == "/admin/waves/w/trusts/RA1/monitor"
    with site.store.session() as session:
        refused = session.scalars(
            select(AuditEntry.target).where(AuditEntry.action.like("refused:%"))
        ).all()
    assert "/admin/waves/w/trusts/RB2/monitor" in refused


def test_admin_sees_every_trust(admin_client: TestClient) -> None:
    login(admin_client, "admin")
    page = parse(admin_client.get("/admin/waves/w/monitor").text)
    assert [tr.attributes["data-group"] for tr in page.css("#by-trust tbody tr")] == ["RA1", "RB2"]
    for trust in ("RA1", "RB2"):
        assert admin_client.get(f"/admin/waves/w/trusts/{trust}/results").status_code == 200


def test_results_are_suppressed_below_the_threshold(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "lead-a")
    page = parse(admin_client.get("/admin/waves/w/trusts/RA1/results").text)
    assert page.css_first("#suppressed") is not None
    assert page.css("table[data-question]") == []
