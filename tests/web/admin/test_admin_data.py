"""Data and reports from the browser: exports, analysis and reports as jobs, leads limited.

In process on SQLite and PostgreSQL; the jobs are run here by `jobs.tasks.execute`, as the
worker would, and the downloaded files are read back.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import openpyxl
import pytest
from adminhelpers import Site, login
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import csrf_of, parse, text_of

from sharedground import synth
from sharedground.exchange.importer import import_file
from sharedground.jobs import tasks
from sharedground.jobs.model import Job

URL = "/admin/waves/w/data"


@pytest.fixture
def answered(site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Site:
    """The site's wave with 60 synthetic responses in two trusts."""
    monkeypatch.setenv("SHAREDGROUND_FILES_DIR", str(tmp_path / "files"))
    path = tmp_path / "cohort.csv"
    frame = synth.generate("2015", seed=3, respondents=60, trusts=2)
    synth.write(frame, synth.instrument_for("2015"), path)
    import_file(site.store, path, "w")
    return site


def _start(client: TestClient, url: str, data: dict[str, str]) -> int:
    page = parse(client.get(url).text)
    response = client.post(url, data={"csrf_token": csrf_of(page), **data})
    assert response.status_code == 200, text_of(parse(response.text), "main")
    return int(text_of(parse(response.text), "[role=status]").split()[2].rstrip(";"))


def _run(site: Site, job_id: int) -> Job:
    assert tasks.execute(site.store, job_id) == "done"
    with site.store.session() as session:
        job = session.get(Job, job_id)
        assert job is not None
        return job


def test_exports_and_analysis_are_jobs_whose_files_download(
    answered: Site, admin_client: TestClient
) -> None:
    login(admin_client, "admin")
    job_id = _start(admin_client, URL, {"what": "export", "format": "xlsx"})
    job = _run(answered, job_id)
    assert job.summary == "60 responses"
    page = parse(admin_client.get(URL).text)
    link = page.css_first(f"tr[data-job='{job_id}'] a[download]")
    assert link is not None
    response = admin_client.get(link.attributes["href"] or "")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None and sheet.max_row == 61  # header and 60 respondents

    job_id = _start(
        admin_client, URL, {"what": "analysis", "analysis_format": "json", "by": "role"}
    )
    job = _run(answered, job_id)
    body = json.loads(admin_client.get(f"/admin/jobs/{job_id}/download").content)
    assert body["respondents"] == 60 and body["by"] == "role"

    page = parse(
        admin_client.post(
            URL, data={"csrf_token": csrf_of(page), "what": "export", "format": "exe"}
        ).text
    )
    assert "choose one of" in text_of(page, ".nhsuk-error-summary").lower()


@pytest.mark.slow
def test_national_and_trust_reports_as_jobs(answered: Site, admin_client: TestClient) -> None:
    login(admin_client, "admin")
    job_id = _start(admin_client, URL, {"what": "report"})  # no PDF: the HTML only
    job = _run(answered, job_id)
    assert job.file_name == "report-w.html"
    response = admin_client.get(f"/admin/jobs/{job_id}/download")
    assert response.headers["content-type"] == "application/octet-stream"  # saved, not shown
    assert "<html" in response.text[:500].lower()

    job_id = _start(admin_client, URL, {"what": "trust_report", "trust": ""})
    job = _run(answered, job_id)
    archive = zipfile.ZipFile(
        io.BytesIO(admin_client.get(f"/admin/jobs/{job_id}/download").content)
    )
    assert len(archive.namelist()) == 2 and all(n.startswith("trust-") for n in archive.namelist())


def test_a_lead_makes_only_their_own_trusts_report(
    answered: Site, admin_client: TestClient
) -> None:
    with answered.store.session() as session:
        from sharedground.store import Organisation

        codes = session.scalars(select(Organisation.code).order_by(Organisation.code)).all()
    own = "RA1"
    login(admin_client, "lead-a")
    assert admin_client.get(URL).status_code == 403
    other = next(c for c in codes if c != own)
    assert admin_client.get(f"/admin/waves/w/trusts/{other}/report").status_code == 403
    page = parse(admin_client.get(f"/admin/waves/w/trusts/{own}/report").text)
    response = admin_client.post(
        f"/admin/waves/w/trusts/{other}/report", data={"csrf_token": csrf_of(page)}
    )
    assert response.status_code == 403
    response = admin_client.post(
        f"/admin/waves/w/trusts/{own}/report", data={"csrf_token": csrf_of(page)}
    )
    assert response.status_code == 200
    with answered.store.session() as session:
        (job,) = session.scalars(select(Job)).all()
    assert (job.kind, job.trust, job.created_by) == ("trust_report", own, "lead-a")
