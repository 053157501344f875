"""Uploading a sample frame and recording opt-outs, in process, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from adminhelpers import Site, login
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import func, select
from starlette.testclient import TestClient
from webhelpers import csrf_of, parse, text_of

from sharedground.store import Contact

HEADER = "name,email,postal_address,role,trust,directorate\n"


@pytest.fixture(autouse=True)
def _files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHAREDGROUND_FILES_DIR", str(tmp_path / "files"))


def _count(site: Site) -> int:
    with site.store.session() as session:
        return int(session.scalar(select(func.count()).select_from(Contact)) or 0)


def _upload(client: TestClient, name: str, content: bytes) -> tuple[int, LexborHTMLParser]:
    page = parse(client.get("/admin/waves/w/frame").text)
    response = client.post(
        "/admin/waves/w/frame",
        data={"csrf_token": csrf_of(page)},
        files={"frame": (name, content, "application/octet-stream")},
    )
    return response.status_code, parse(response.text)


def _uploads(tmp_path: Path) -> list[Path]:
    folder = tmp_path / "files" / "uploads"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_file_with_problems_is_listed_by_row_and_column_and_nothing_added(
    site: Site, admin_client: TestClient, tmp_path: Path
) -> None:
    login(admin_client, "admin")
    before = _count(site)
    content = (
        HEADER
        + 'New One,new1@example.org,"1 Road\nTown\nAB1 2CD",medical_director,RA1,\n'
        + "New Two,not-an-address,2 Road,chief_exec,RA1,\n"
        + "Old,p0@example.org,3 Road,medical_director,RA1,\n"
    ).encode()
    status, page = _upload(admin_client, "frame.csv", content)
    assert status == 422
    rows = [
        [td.text().strip() for td in tr.css("td")] for tr in page.css("#file-problems tbody tr")
    ]
    columns = {(r[0], r[1]) for r in rows}
    assert ("3", "email") in columns and ("3", "role") in columns
    assert "problem(s); nothing was added" in text_of(page, ".nhsuk-error-summary")
    assert _count(site) == before
    assert _uploads(tmp_path) == []  # the refused file is not kept


def test_a_good_file_shows_warnings_then_adds_only_when_confirmed(
    site: Site, admin_client: TestClient, tmp_path: Path
) -> None:
    login(admin_client, "admin")
    before = _count(site)
    content = (
        HEADER
        + 'A,a@example.org,"1 Road\nTown\nAB1 2CD",medical_director,RA1,\n'
        + "B,b@example.org,2 Road no postcode,clinical_director,RC9,Surgery\n"
    ).encode()
    status, page = _upload(admin_client, "frame.csv", content)
    assert status == 200
    assert "add 2 contact(s) from 2 organisation(s)" in text_of(page, "#frame-check")
    assert "Clinical director (or similar): 1" in text_of(page, "#frame-check")
    warnings = [[td.text().strip() for td in tr.css("td")] for tr in page.css("#file-warnings tr")]
    assert any(w[:2] == ["3", "postal_address"] for w in warnings if w)
    assert _count(site) == before  # checked, not added
    field = page.css_first("#confirm-frame input[name=upload]")
    assert field is not None
    token = field.attributes["value"] or ""
    response = admin_client.post(
        "/admin/waves/w/frame/confirm", data={"csrf_token": csrf_of(page), "upload": token}
    )
    assert response.status_code == 200
    assert "Added 2 contacts" in text_of(parse(response.text), "[role=status]")
    assert _count(site) == before + 2
    assert _uploads(tmp_path) == []
    # Confirming again adds nothing: the file is gone.
    response = admin_client.post(
        "/admin/waves/w/frame/confirm", data={"csrf_token": csrf_of(page), "upload": token}
    )
    assert response.status_code == 422
    assert _count(site) == before + 2


def test_xlsx_is_checked_the_same_way(site: Site, admin_client: TestClient, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["name", "email", "postal_address", "role", "trust", "directorate"])
    sheet.append(["X", "x@example.org", "1 Road\nTown\nAB1 2CD", "medical_director", "RA1", None])
    sheet.append(["Y", "y@example.org", "2 Road\nTown\nAB1 2CD", "nobody", "RA1", None])
    path = tmp_path / "frame.xlsx"
    book.save(path)
    login(admin_client, "admin")
    status, page = _upload(admin_client, "frame.xlsx", path.read_bytes())
    assert status == 422
    rows = [
        [td.text().strip() for td in tr.css("td")] for tr in page.css("#file-problems tbody tr")
    ]
    assert [r[:2] for r in rows] == [["3", "role"]]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("frame.exe", b"MZ", "The file must be a CSV file"),
        ("frame.csv", b"", "Choose a CSV or XLSX file"),
    ],
)
def test_uploads_of_the_wrong_kind_are_refused(
    site: Site, admin_client: TestClient, name: str, content: bytes, message: str
) -> None:
    login(admin_client, "admin")
    status, page = _upload(admin_client, name, content)
    assert status == 422
    assert message in text_of(page, ".nhsuk-error-summary")


def test_upload_needs_csrf_and_an_administrator(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    response = admin_client.post(
        "/admin/waves/w/frame", files={"frame": ("f.csv", HEADER.encode(), "text/csv")}
    )
    assert response.status_code == 403
    lead = TestClient(site.app(), base_url="https://testserver")
    login(lead, "lead-a")
    page = parse(lead.get("/admin").text)
    response = lead.post(
        "/admin/waves/w/frame",
        data={"csrf_token": csrf_of(page)},
        files={"frame": ("f.csv", HEADER.encode(), "text/csv")},
    )
    assert response.status_code == 403


def test_opt_outs_by_hand(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    page = parse(admin_client.get("/admin/waves/w/frame").text)
    response = admin_client.post(
        "/admin/waves/w/frame/opt-out",
        data={"csrf_token": csrf_of(page), "emails": "p1@example.org, nobody@example.org"},
    )
    assert response.status_code == 422
    assert "nobody@example.org is not a contact" in response.text
    response = admin_client.post(
        "/admin/waves/w/frame/opt-out",
        data={"csrf_token": csrf_of(page), "emails": "p1@example.org\nP2@example.org"},
    )
    assert response.status_code == 200
    assert "Opted out 2 contact(s)" in response.text
    with site.store.session() as session:
        opted = session.scalars(
            select(Contact.email).where(Contact.opted_out_at.is_not(None)).order_by(Contact.email)
        ).all()
    assert opted == ["p1@example.org", "p2@example.org"]


def test_an_upload_over_the_size_limit_is_refused_unread(
    site: Site, admin_client: TestClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sharedground.web.admin import forms

    monkeypatch.setattr(forms, "MAX_UPLOAD_BYTES", 1000)
    login(admin_client, "admin")
    status, page = _upload(admin_client, "frame.csv", (HEADER + "x," * 1000).encode())
    assert status == 422
    assert "larger than" in text_of(page, ".nhsuk-error-summary")
    assert _uploads(tmp_path) == []
