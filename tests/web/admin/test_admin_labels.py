"""What a person sees: role groups in words, the header navigation marking the section."""

from __future__ import annotations

from adminhelpers import Site, login
from starlette.testclient import TestClient
from webhelpers import parse, text_of, texts_of

from sharedground.web.admin import nav
from sharedground.web.admin.labels import role_label


def test_roles_are_shown_in_words_never_as_ids(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    for url in ("/admin/waves/w/monitor", "/admin/waves/w/contacts"):
        html = admin_client.get(url).text
        assert "Clinical director (or similar)" in html
        for raw in ("clinical_director", "chief_executive"):
            # ids may stay in attributes for scripts and tests, never in the text read
            assert raw not in parse(html).body.text(), (url, raw)
    page = parse(admin_client.get("/admin/waves/w/monitor").text)
    assert texts_of(page, "#by-role tbody th")[:4] == [
        "Chief executive",
        "Medical director",
        "Directorate manager (or similar)",
        "Clinical director (or similar)",
    ]


def test_role_label_of_an_unknown_id_is_readable() -> None:
    assert role_label("nurse_director") == "Nurse director"
    assert role_label(None) == ""


def test_header_marks_the_current_section(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    expected = {
        "/admin": ("Waves", "page"),
        "/admin/waves/w/monitor": ("Waves", "true"),
        "/admin/jobs": ("Jobs", "page"),
        "/admin/coding": ("Coding", "page"),
        "/admin/accounts": ("Accounts", "page"),
        "/admin/accounts/lead-a": ("Accounts", "true"),
        "/admin/audit": ("Audit log", "page"),
    }
    for url, (label, current) in expected.items():
        page = parse(admin_client.get(url).text)
        marked = page.css(".nhsuk-header__navigation-link[aria-current]")
        assert [m.text().strip() for m in marked] == [label], url
        assert marked[0].attributes["aria-current"] == current
        assert texts_of(page, ".nhsuk-header__navigation-link") == [s.label for s in nav.SECTIONS]
    page = parse(admin_client.get("/admin/waves/w/frame").text)
    assert text_of(page, "nav[aria-label='Wave w'] a[aria-current]") == "Sample frame"


def test_monitoring_chart_draws_a_single_day_as_a_dot(site: Site, admin_client: TestClient) -> None:
    from sharedground.fieldwork import paper

    with site.store.session() as session:
        for serial in site.serials["RA1"][:3]:
            for keyer in ("k1", "k2"):
                paper.key_questionnaire(session, serial, {"role": "chief_executive"}, keyer)
    login(admin_client, "admin")
    page = parse(admin_client.get("/admin/waves/w/monitor").text)
    dots = page.css("#daily-chart circle")
    assert len(dots) == 1  # one day of returns: a line would draw nothing
    assert [td.text() for td in page.css("#daily tbody td")][1:3] == ["0", "3"]
