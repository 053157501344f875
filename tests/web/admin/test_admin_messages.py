"""The messages page: wording, preview, test message, sending as a job, resending those in doubt.

In process on SQLite and PostgreSQL, with a real SMTP server (aiosmtpd); the jobs the
page starts are run here by `jobs.tasks.execute`, as the worker would.
"""

from __future__ import annotations

import collections
from collections.abc import Iterator
from pathlib import Path

import pytest
from adminhelpers import Site, login
from mailserver import MailServer
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import TableClause, func, select, table, update
from starlette.testclient import TestClient
from webhelpers import csrf_of, parse, text_of

from sharedground.jobs import tasks
from sharedground.jobs.model import Job
from sharedground.store.schema import Message

URL = "/admin/waves/w/messages"


@pytest.fixture
def smtp_server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MailServer]:
    from cryptography.fernet import Fernet

    with MailServer() as server:
        monkeypatch.setenv("SHAREDGROUND_FILES_DIR", str(tmp_path / "files"))
        monkeypatch.setenv("SHAREDGROUND_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("SHAREDGROUND_SMTP_PORT", str(server.port))
        monkeypatch.setenv("SHAREDGROUND_SMTP_STARTTLS", "0")
        monkeypatch.setenv("SHAREDGROUND_MAIL_FROM", "Survey team <survey@example.org>")
        monkeypatch.setenv("SHAREDGROUND_LINK_KEY", Fernet.generate_key().decode())
        yield server


def _post(
    client: TestClient, url: str, data: dict[str, str] | None = None
) -> tuple[int, LexborHTMLParser]:
    page = parse(client.get(URL).text)
    response = client.post(url, data={"csrf_token": csrf_of(page), **(data or {})})
    return response.status_code, parse(response.text)


def _jobs(site: Site) -> list[Job]:
    with site.store.session() as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def test_page_shows_what_is_due_and_a_preview_for_a_named_contact(
    site: Site, admin_client: TestClient, smtp_server: MailServer
) -> None:
    login(admin_client, "admin")
    page = parse(admin_client.get(URL).text)
    assert text_of(page, "#due").startswith("Due now: 16 invitation.")
    page = parse(admin_client.get(f"{URL}?kind=invitation&preview=p3@example.org").text)
    assert "To: P3 <p3@example.org>" in text_of(page, "#preview")
    assert "/s/PREVIEW" in text_of(page, "#preview-text")
    page = parse(admin_client.get(f"{URL}?preview=nobody@example.org").text)
    assert "is not a contact" in text_of(page, "#preview-error")


def test_wording_is_checked_saved_and_used(
    site: Site, admin_client: TestClient, smtp_server: MailServer
) -> None:
    login(admin_client, "admin")
    page = parse(admin_client.get(URL).text)
    texts = {part: page.css_first(f"textarea#{part}").text() for part in ("subject", "txt", "html")}
    bad = {**texts, "kind": "invitation", "txt": "Dear {{ name }, {{ survey_url }}"}
    status, page = _post(admin_client, f"{URL}/templates", bad)
    assert status == 422
    assert "line 1" in text_of(page, ".nhsuk-error-summary")
    unknown = {**texts, "kind": "invitation", "subject": "Hello {{ nickname }}"}
    status, page = _post(admin_client, f"{URL}/templates", unknown)
    assert status == 422
    assert "nickname" in text_of(page, ".nhsuk-error-summary")
    good = {**texts, "kind": "invitation", "subject": "Your voice, {{ name }}"}
    status, page = _post(admin_client, f"{URL}/templates", good)
    assert status == 200
    assert text_of(page, "#preview-subject") == "Your voice, P0"
    # The test message uses it and goes only to the address typed.
    status, page = _post(
        admin_client, f"{URL}/test", {"kind": "invitation", "to": "me@example.org"}
    )
    assert status == 200, text_of(page, "main")
    received = smtp_server.handler.received
    assert [r.recipients for r in received] == [["me@example.org"]]
    assert received[0].message["Subject"] == "Your voice, P0"
    assert received[0].message["To"] == "me@example.org"
    status, page = _post(
        admin_client, f"{URL}/test", {"kind": "invitation", "to": "not an address"}
    )
    assert status == 422


def test_sending_is_a_confirmed_job_and_in_doubt_ones_go_again_only_when_asked(
    site: Site, admin_client: TestClient, smtp_server: MailServer
) -> None:
    login(admin_client, "admin")
    status, _page = _post(admin_client, f"{URL}/send")
    assert status == 422 and _jobs(site) == []  # not confirmed: nothing started
    status, page = _post(admin_client, f"{URL}/send", {"confirm_send": "yes"})
    assert status == 200
    (job,) = _jobs(site)
    assert (job.kind, job.state, job.params["reminder_days"]) == ("send", "queued", [9, 21])
    assert page.css_first("meta[http-equiv=refresh]") is not None
    assert page.css_first("#start-send") is None  # one send per wave at a time
    with site.store.session() as session:
        queued = session.execute(select(func.count()).select_from(_huey_task())).scalar()
    assert queued == 1  # handed to the worker's queue
    assert tasks.execute(site.store, job.id) == "done"
    received = collections.Counter(r.recipients[0] for r in smtp_server.handler.received)
    assert len(received) == 16 and max(received.values()) == 1
    # One message left "sending" by a crash is listed; resending needs confirming.
    with site.store.session() as session:
        session.execute(
            update(Message).where(Message.address == "p5@example.org").values(status="sending")
        )
    page = parse(admin_client.get(URL).text)
    assert "p5@example.org" in text_of(page, "#in-doubt")
    assert text_of(page, "#due").startswith("Due now: nothing")
    status, _page = _post(admin_client, f"{URL}/resend")
    assert status == 422
    status, _page = _post(admin_client, f"{URL}/resend", {"confirm_resend": "yes"})
    assert status == 200
    resend = _jobs(site)[-1]
    assert resend.params["retry_unknown"] is True
    assert tasks.execute(site.store, resend.id) == "done"
    received = collections.Counter(r.recipients[0] for r in smtp_server.handler.received)
    assert received["p5@example.org"] == 2
    assert sum(received.values()) == 17
    page = parse(admin_client.get(URL).text)
    assert page.css_first("#in-doubt") is None


def _huey_task() -> TableClause:
    return table("huey_task")


def test_leads_may_not_send(site: Site, admin_client: TestClient) -> None:
    login(admin_client, "lead-a")
    assert admin_client.get(URL).status_code == 403
    page = parse(admin_client.get("/admin").text)
    response = admin_client.post(
        f"{URL}/send", data={"csrf_token": csrf_of(page), "confirm_send": "yes"}
    )
    assert response.status_code == 403
    assert _jobs(site) == []


def test_postal_sample_drawn_and_packs_printed_as_a_job(
    site: Site, admin_client: TestClient, smtp_server: MailServer
) -> None:
    login(admin_client, "admin")
    page = parse(admin_client.get(URL).text)
    assert "16 people were drawn" in text_of(page, "#postal-draw")  # the fixture's sample
    percents = {
        "percent_chief_executive": "100",
        "percent_medical_director": "0",
        "percent_clinical_director": "0",
        "percent_directorate_manager": "0",
    }
    status, page = _post(admin_client, f"{URL}/postal-sample", percents)
    assert status == 422  # no seed
    status, page = _post(admin_client, f"{URL}/postal-sample", {**percents, "seed": "7"})
    assert status == 422 and "already has a postal sample" in text_of(page, ".nhsuk-error-summary")
    status, page = _post(
        admin_client, f"{URL}/postal-sample", {**percents, "seed": "7", "replace": "yes"}
    )
    assert status == 200
    assert text_of(page, "[role=status]").startswith("Drew 4 people")
    status, page = _post(admin_client, f"{URL}/print", {"confirm_print": "yes"})
    assert status == 200
    job = _jobs(site)[-1]
    assert job.kind == "print"
    assert tasks.execute(site.store, job.id) == "done", _jobs(site)[-1].error
    response = admin_client.get(f"/admin/jobs/{job.id}/download")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
