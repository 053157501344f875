"""The pulse end to end, on SQLite and PostgreSQL: invitations with the pulse's own e-mails
through a real SMTP server (aiosmtpd), answers through the web survey from each personal
link, re-keyed by participant code, before and after paired."""

from __future__ import annotations

import datetime as dt
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import select
from starlette.testclient import TestClient

HERE = Path(__file__).parent
sys.path[:0] = [str(HERE.parent / "fieldwork"), str(HERE.parent / "web")]
from mailserver import MailServer  # noqa: E402
from webhelpers import answer_sections, submit  # noqa: E402

from sharedground.fieldwork.clock import study_today  # noqa: E402
from sharedground.fieldwork.mail import Sender, Templates  # noqa: E402
from sharedground.fieldwork.personal import Sealer  # noqa: E402
from sharedground.fieldwork.sending import Mailer, send_due  # noqa: E402
from sharedground.fieldwork.smtp import SmtpSettings, SmtpTransport  # noqa: E402
from sharedground.initiatives import participants, pulse, register  # noqa: E402
from sharedground.store import Response, Store  # noqa: E402
from sharedground.web import create_app  # noqa: E402

BASE = "https://survey.example.org"
SECTIONS = ["relationships", "you_and_the_other_group", "about_you"]


@pytest.fixture
def mailserver() -> Iterator[MailServer]:
    with MailServer() as server:
        yield server


def _send(store: Store, wave: str, server: MailServer, key: bytes) -> list[str]:
    """Send the wave's invitations; the tokens of the links they carried."""
    mailer = Mailer(
        transport=SmtpTransport(SmtpSettings("127.0.0.1", server.port, starttls=False)),
        sender=Sender("Programme team <team@example.org>"),
        base_url=BASE,
        templates=Templates(pulse.email_templates()),
        sealer=Sealer(key),
    )
    try:
        report = send_due(store, wave, mailer, today=study_today())
    finally:
        assert mailer.transport is not None
        mailer.transport.close()
    assert report.sent == 6
    tokens = []
    for received in server.handler.received:
        message = received.message
        assert str(message["Subject"]).startswith("Five minutes: ")
        text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "about five minutes" in text and "15 minutes" not in text
        marker = f"{BASE}/s/"
        start = text.index(marker) + len(marker)
        tokens.append(text[start : start + 32])
    server.handler.received.clear()
    return tokens


def test_invite_answer_on_the_web_and_pair(
    store: Store, tmp_path: Path, mailserver: MailServer
) -> None:
    today = study_today()
    with store.session() as session:
        ident = register.add(
            store, session, trust="RA1", kind="paired_learning", title="P", actor="t",
            stage="running",
        ).id  # fmt: skip
    cohort = tmp_path / "cohort.csv"
    cohort.write_text(
        "name,email,side\n"
        + "".join(f"P{k},p{k}@t.nhs.uk,{'doctor' if k % 2 else 'manager'}\n" for k in range(6))
    )
    participants.import_cohort(store, ident, cohort, actor="t")
    key = Fernet.generate_key()
    app = create_app(store, key=b"test-key", today=lambda: today)
    for point, rating in (("before", "2"), ("after", "4")):
        wave = pulse.create_timepoint(
            store, ident, point, opens=today, closes=today + dt.timedelta(days=20), actor="t"
        )
        tokens = _send(store, wave, mailserver, key)
        assert len(tokens) == 6
        with TestClient(app, base_url="https://testserver") as client:
            for token in tokens:
                answers = {
                    "relationships": {"local_rating": rating, "work_as_team": "tend_to_agree"},
                    "you_and_the_other_group": {"confidence_to_engage": "3"},
                }
                answer_sections(client, token, SECTIONS, answers)
                assert submit(client, token).status_code == 303
        assert pulse.collect(store, ident) == 6
    with store.session() as session:
        keys = list(session.scalars(select(Response.respondent_key)))
        found = pulse.results(session, ident)
    assert len(keys) == 12 and not any(k.startswith("web-link-") for k in keys)
    assert found.responded == {"before": 6, "after": 6} and found.lost_after == 0
    rating_row = next(c for c in found.changes["after"] if c.item == "local_rating")
    assert (rating_row.paired, rating_row.before, rating_row.after) == (6, 2.0, 4.0)


def test_a_follow_up_set_in_advance_goes_out_on_its_day(
    store: Store, tmp_path: Path, mailserver: MailServer
) -> None:
    today = study_today()
    with store.session() as session:
        ident = register.add(store, session, trust="RA1", kind="coaching", title="C", actor="t").id
    cohort = tmp_path / "cohort.csv"
    cohort.write_text("email,side\n" + "".join(f"p{k}@t.nhs.uk,doctor\n" for k in range(6)))
    participants.import_cohort(store, ident, cohort, actor="t")
    day = today + dt.timedelta(days=90)
    wave = pulse.create_timepoint(
        store, ident, "follow_up", opens=day, closes=day + dt.timedelta(days=21), actor="t"
    )
    mailer = Mailer(
        transport=SmtpTransport(SmtpSettings("127.0.0.1", mailserver.port, starttls=False)),
        sender=Sender("Programme team <team@example.org>"),
        base_url=BASE,
        templates=Templates(pulse.email_templates()),
        sealer=Sealer(Fernet.generate_key()),
    )
    try:
        early = send_due(store, wave, mailer, today=today)
        assert early.sent == 0 and mailserver.handler.received == []
        due = send_due(store, wave, mailer, today=day)
    finally:
        assert mailer.transport is not None
        mailer.transport.close()
    assert due.sent == 6 and len(mailserver.handler.received) == 6
