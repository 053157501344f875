"""A wave run from the browser, end to end, in real Chromium with a real worker process.

An administrator creates a wave, uploads a sample frame with an error, sees it listed by
row and column, fixes it and adds it, sends the invitations (to aiosmtpd) as a background
job run by `sharedground worker`, watches the job finish, and downloads the XLSX export
and the national report.
axe-core checks each new page type on the way (no serious or critical violation). One
backend (SQLite) is enough here: the in-process tests cover PostgreSQL.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from adminhelpers import Site, sign_in
from cryptography.fernet import Fernet
from mailserver import MailServer
from webhelpers import LiveServer, axe_problems

from sharedground import synth
from sharedground.exchange.importer import import_file
from sharedground.store import Store

pytestmark = pytest.mark.slow

HEADER = "name,email,postal_address,role,trust,directorate\n"
GOOD = [
    'Ann Able,ann@example.org,"1 Road\nTown\nAB1 2CD",chief_executive,RXA,',
    'Bob Best,bob@example.org,"2 Road\nTown\nAB1 2CD",medical_director,RXA,',
    'Cat Cole,cat@example.org,"3 Road\nTown\nAB1 2CD",clinical_director,RXB,Surgery',
]


@pytest.fixture
def worker_env(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[MailServer, dict[str, str]]]:
    if store.backend != "sqlite":
        pytest.skip("the browser flow runs once; the in-process tests cover PostgreSQL")
    with MailServer() as server:
        env = {
            "SHAREDGROUND_FILES_DIR": str(tmp_path / "files"),
            "SHAREDGROUND_SMTP_HOST": "127.0.0.1",
            "SHAREDGROUND_SMTP_PORT": str(server.port),
            "SHAREDGROUND_SMTP_STARTTLS": "0",
            "SHAREDGROUND_MAIL_FROM": "Survey team <survey@example.org>",
            "SHAREDGROUND_LINK_KEY": Fernet.generate_key().decode(),
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)  # the server in this process reads them too
        yield server, {**os.environ, **env}


def test_admin_runs_a_wave_from_the_browser(
    site: Site,
    server: LiveServer,
    new_context: Callable[..., Any],
    worker_env: tuple[MailServer, dict[str, str]],
    tmp_path: Path,
) -> None:
    mail, env = worker_env
    worker = subprocess.Popen(
        [sys.executable, "-m", "sharedground", "worker", "--database", site.store.url],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    seen: dict[str, list[str]] = {}

    def check(page: Any, what: str) -> None:
        seen[what] = axe_problems(page)

    try:
        page = sign_in(
            new_context(bypass_csp=True, accept_downloads=True).new_page(), server, "admin"
        )
        page.click("#new-wave")
        page.fill("#name", "pilot 2027")  # a space: refused
        page.click("#create-wave-button")
        page.wait_for_selector(".nhsuk-error-summary")
        check(page, "create wave, error")
        page.fill("#name", "pilot-2027")
        page.fill("#reminder_days", "7, 14")
        page.click("#create-wave-button")
        page.wait_for_selector("#wave-facts")
        assert page.inner_text("#wave-state") == "Open"
        check(page, "wave settings")

        page.click("nav[aria-label='Wave pilot-2027'] >> text=Sample frame")
        bad = tmp_path / "frame.csv"
        bad.write_text(
            HEADER + "\n".join([*GOOD, "Dan Dee,dan-at-example.org,4 Road,ceo,RXB,"]) + "\n"
        )
        page.set_input_files("#frame", str(bad))
        page.click("#upload-frame-button")
        page.wait_for_selector("#file-problems")
        problems = page.eval_on_selector_all(
            "#file-problems tbody tr", "rows => rows.map(r => r.innerText)"
        )
        assert any(p.startswith("5\temail") for p in problems), problems
        assert any(p.startswith("5\trole") for p in problems), problems
        assert "0 contact(s)" in page.inner_text("#frame-counts")
        check(page, "frame, problems")
        good = tmp_path / "frame-fixed.csv"
        good.write_text(HEADER + "\n".join(GOOD) + "\n")
        page.set_input_files("#frame", str(good))
        page.click("#upload-frame-button")
        page.wait_for_selector("#frame-check")
        check(page, "frame, checked")
        page.click("#confirm-frame-button")
        page.wait_for_selector("text=Added 3 contacts")
        assert "3 contact(s)" in page.inner_text("#frame-counts")

        page.click("nav[aria-label='Wave pilot-2027'] >> text=Messages")
        assert page.inner_text("#due").startswith("Due now: 3 invitation.")
        check(page, "messages")
        page.check("#confirm_send")
        page.click("#start-send-button")
        page.wait_for_selector("text=Started job")
        # The page refreshes itself until the job is done.
        page.wait_for_selector("#jobs tr[data-state='done']", timeout=60_000)
        assert sorted(r.recipients[0] for r in mail.handler.received) == [
            "ann@example.org",
            "bob@example.org",
            "cat@example.org",
        ]
        check(page, "messages, job finished")

        # Meanwhile 60 people answer (imported here: the survey pages have tests of their own).
        cohort = tmp_path / "cohort.csv"
        synth.write(
            synth.generate("2015", seed=5, respondents=60, trusts=2),
            synth.instrument_for("2015"),
            cohort,
        )
        import_file(site.store, cohort, "pilot-2027")

        page.click("nav[aria-label='Wave pilot-2027'] >> text=Data and reports")
        check(page, "data")
        page.select_option("#format", "xlsx")
        page.click("#export-button")
        page.wait_for_selector("#jobs tr[data-state='done'] a[download]", timeout=60_000)
        with page.expect_download() as download_info:
            page.click("#jobs tr[data-state='done'] a[download]")
        download = download_info.value
        assert download.suggested_filename == "pilot-2027-responses.xlsx"
        sheet = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
        assert sheet is not None and sheet.cell(1, 1).value == "respondent_id"
        assert sheet.max_row == 61

        page.uncheck("#pdf")  # the HTML report (the PDF is WeasyPrint's, tested elsewhere)
        page.click("#report-button")
        page.wait_for_selector(
            "#jobs tr[data-state='done']:has-text('National report') a[download]", timeout=90_000
        )
        with page.expect_download() as download_info:
            page.click("#jobs tr:has-text('National report') a[download]")
        report = download_info.value
        assert report.suggested_filename == "report-pilot-2027.html"
        html = Path(report.path()).read_text(encoding="utf-8")
        assert "<html" in html[:500].lower() and "pilot-2027" in html

        page.click(".nhsuk-header__navigation-link >> text=Jobs")
        assert page.locator("#jobs tr[data-state='done']").count() == 3
        check(page, "jobs")

        lead = sign_in(new_context(bypass_csp=True).new_page(), server, "lead-a")
        lead.goto(f"{server.url}/admin/waves/w/trusts/RA1/report")
        check(lead, "lead's trust report")
    finally:
        worker.terminate()
        _out, err = worker.communicate(timeout=30)
    assert worker.returncode in (0, -15), err.decode()[-2000:]
    assert {k: v for k, v in seen.items() if v} == {}
    assert len(seen) == 9
