"""The waves pages and the jobs page, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from adminhelpers import Site, login
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import csrf_of, parse, text_of, texts_of

from sharedground.fieldwork import waves
from sharedground.fieldwork.clock import study_today
from sharedground.jobs import records, tasks
from sharedground.jobs.model import Job
from sharedground.store.schema import AuditEntry, Wave


@pytest.fixture(autouse=True)
def _files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREDGROUND_FILES_DIR", str(tmp_path / "files"))


def _post(
    client: TestClient, form_page: str, url: str, data: dict[str, str] | None = None
) -> tuple[int, LexborHTMLParser]:
    page = parse(client.get(form_page).text)
    response = client.post(url, data={"csrf_token": csrf_of(page), **(data or {})})
    return response.status_code, parse(response.text)


def _wave(site: Site, name: str) -> Wave | None:
    with site.store.session() as session:
        return site.store.find_wave(session, name)


def test_admin_creates_a_wave_and_sees_its_settings(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    opens = study_today() + dt.timedelta(days=3)
    status, page = _post(
        admin_client,
        "/admin/waves/new",
        "/admin/waves/new",
        {
            "name": "rxx-2027",
            "instrument": "dmr-2015",
            "opens": opens.isoformat(),
            "closes": (opens + dt.timedelta(days=40)).isoformat(),
            "reminder_days": "7, 14,21",
            "suppression_threshold": "8",
            "anonymous": "yes",
        },
    )
    assert status == 200
    assert text_of(page, "h1") == "Wave rxx-2027"
    assert text_of(page, "#wave-state") == "Not open"
    wave = _wave(site, "rxx-2027")
    assert wave is not None
    assert (wave.opens, wave.anonymous, wave.suppression_threshold) == (opens, True, 8)
    with site.store.session() as session:
        assert waves.reminder_days(session, wave.id) == (7, 14, 21)
        actions = session.scalars(select(AuditEntry.action)).all()
    assert "create wave" in actions
    # The header marks the Waves section; the wave's own navigation marks Settings.
    assert text_of(page, ".nhsuk-header__navigation-link[aria-current]") == "Waves"
    assert text_of(page, "nav[aria-label^='Wave'] a[aria-current='page']") == "Settings"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "no spaces", "letters, digits"),
        ("name", "w", "exists already"),
        ("closes", "2020-01-01", "before the opening date"),
        ("reminder_days", "9, x", "give reminder days as numbers"),
        ("suppression_threshold", "0", "1 to 100"),
        ("opens", "31/12/2027", "is not a date"),
    ],
)
def test_wave_form_problems_are_listed_and_nothing_is_created(
    site: Site, admin_client: TestClient, field: str, value: str, message: str
) -> None:
    login(admin_client, "admin")
    data = {"name": "new-one", "opens": "2027-01-01", "closes": "2027-02-01"}
    data[field] = value
    status, page = _post(admin_client, "/admin/waves/new", "/admin/waves/new", data)
    assert status == 422
    assert message in text_of(page, ".nhsuk-error-summary")
    assert page.css_first(f"#{field}-error") is not None
    assert _wave(site, "new-one") is None


def test_change_close_and_refuse_what_may_not_change(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    today = study_today()
    closes = today + dt.timedelta(days=30)
    status, page = _post(
        admin_client,
        "/admin/waves/w",
        "/admin/waves/w",
        {"closes": closes.isoformat(), "reminder_days": "10", "suppression_threshold": "6"},
    )
    assert status == 200, text_of(page, "main")
    assert "closes " + closes.isoformat() in text_of(page, "[role=status]")
    # The wave "w" opened today: its opening date cannot move.
    status, page = _post(
        admin_client,
        "/admin/waves/w",
        "/admin/waves/w",
        {"opens": (today + dt.timedelta(days=2)).isoformat(), "closes": closes.isoformat()},
    )
    assert status == 422
    assert "has opened" in text_of(page, ".nhsuk-error-summary")
    # Closing needs the box ticked.
    status, page = _post(admin_client, "/admin/waves/w", "/admin/waves/w/close")
    assert status == 422
    assert (_wave(site, "w") or Wave()).closes == closes
    status, page = _post(
        admin_client, "/admin/waves/w", "/admin/waves/w/close", {"confirm_close": "yes"}
    )
    assert status == 200
    assert text_of(page, "#wave-state") == "Closed"
    assert (_wave(site, "w") or Wave()).closes == today - dt.timedelta(days=1)
    assert page.css_first("#change-wave") is None  # nothing left to change


def test_leads_cannot_create_change_or_close(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "lead-a")
    assert admin_client.get("/admin/waves/new").status_code == 403
    assert admin_client.get("/admin/waves/w").status_code == 403
    assert admin_client.get("/admin/jobs").status_code == 200  # their own jobs only
    page = parse(admin_client.get("/admin").text)
    assert page.css_first("#new-wave") is None
    assert texts_of(page, ".nhsuk-header__navigation-link") == ["Waves", "Initiatives", "Coding"]
    response = admin_client.post(
        "/admin/waves/w/close", data={"csrf_token": csrf_of(page), "confirm_close": "yes"}
    )
    assert response.status_code == 403
    assert (_wave(site, "w") or Wave()).closes is None


def test_release_held_questionnaires_of_an_anonymous_wave(
    site: Site, admin_client: TestClient
) -> None:
    from sharedground.fieldwork import anonymity
    from sharedground.instrument import builtin

    with site.store.session() as session:
        wave = site.store.create_wave(session, "anon", builtin("dmr-2015"), anonymous=True)
        for _ in range(3):
            anonymity.hold(
                session,
                wave,
                role="medical_director",
                organisation_id=None,
                mode="online",
                submitted_on=None,
                answers={},
            )
    login(admin_client, "admin")
    page = parse(admin_client.get("/admin/waves/anon").text)
    assert text_of(page, "#wave-held") == "3"
    status, page = _post(
        admin_client, "/admin/waves/anon", "/admin/waves/anon/release", {"confirm_release": "yes"}
    )
    assert status == 200
    assert "Released 3" in text_of(page, "[role=status]")
    assert page.css_first("#release-held") is None


def test_jobs_page_lists_downloads_and_deletes(site: Site, admin_client: TestClient) -> None:
    with site.store.session() as session:
        wave = site.store.get_wave(session, "w")
        job_id = records.create(session, "admin", "export", wave.id, {"format": "csv"}).id
    login(admin_client, "admin")
    page = parse(admin_client.get("/admin/jobs").text)
    assert text_of(page, f"tr[data-job='{job_id}'] [data-column=state]") == "Waiting to start"
    assert page.css_first("meta[http-equiv=refresh]") is not None
    assert page.css_first("#no-worker") is not None  # waiting, and no worker heard from
    records.heartbeat(site.store)
    page = parse(admin_client.get("/admin/jobs").text)
    assert page.css_first("#no-worker") is None
    assert tasks.execute(site.store, job_id) == "done"
    page = parse(admin_client.get("/admin/jobs").text)
    assert text_of(page, f"tr[data-job='{job_id}'] [data-column=state]") == "Finished"
    assert page.css_first("meta[http-equiv=refresh]") is None
    response = admin_client.get(f"/admin/jobs/{job_id}/download")
    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment")
    assert response.text.startswith("respondent_id,")
    # A lead sees neither the job nor its file.
    lead = TestClient(site.app(), base_url="https://testserver")
    login(lead, "lead-a")
    assert f'data-job="{job_id}"' not in lead.get("/admin/jobs").text
    assert lead.get(f"/admin/jobs/{job_id}/download").status_code == 404
    # Deleting needs the box ticked, then removes the row and the file.
    status, _page = _post(admin_client, "/admin/jobs", f"/admin/jobs/{job_id}/delete")
    assert status == 422
    status, _page = _post(
        admin_client, "/admin/jobs", f"/admin/jobs/{job_id}/delete", {"confirm_delete": "yes"}
    )
    assert status == 200
    with site.store.session() as session:
        assert session.get(Job, job_id) is None
    assert admin_client.get(f"/admin/jobs/{job_id}/download").status_code == 404
