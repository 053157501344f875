"""Invitations and reminders through a real SMTP server (aiosmtpd on loopback)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from fieldhelpers import Frame
from mailserver import MailServer
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import select, update

from sharedground.fieldwork.contacts import opt_out
from sharedground.fieldwork.links import find_link
from sharedground.fieldwork.mail import Sender, Templates
from sharedground.fieldwork.personal import LinkKeyError, Sealer, load_key
from sharedground.fieldwork.sending import Mailer, send_due
from sharedground.fieldwork.smtp import SmtpSettings, SmtpTransport
from sharedground.store.schema import Link, Message

BASE = "https://survey.example.org"
TODAY = dt.date.today()


def mailer(server: MailServer, key: bytes, templates: Path | None = None) -> Mailer:
    transport = SmtpTransport(SmtpSettings("127.0.0.1", server.port, starttls=False))
    return Mailer(
        transport=transport,
        sender=Sender("Survey team <survey@example.org>"),
        base_url=BASE,
        templates=Templates(templates),
        sealer=Sealer(key),
    )


def send(frame: Frame, server: MailServer, key: bytes, day: dt.date = TODAY, **kw: object):  # type: ignore[no-untyped-def]
    m = mailer(server, key)
    try:
        return send_due(frame.store, frame.wave, m, today=day, **kw)  # type: ignore[arg-type]
    finally:
        assert m.transport is not None
        m.transport.close()


def token_in(received_text: str) -> str:
    marker = f"{BASE}/s/"
    start = received_text.index(marker) + len(marker)
    return received_text[start : start + 32]


@pytest.fixture
def key() -> bytes:
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def test_invitation_reaches_everyone_once_with_a_working_personal_link(
    frame: Frame, mailserver: MailServer, key: bytes
) -> None:
    report = send(frame, mailserver, key)
    assert report.planned == {"invitation": 40} and report.sent == 40
    contacts = frame.contacts()
    assert sorted(r.recipients[0] for r in mailserver.handler.received) == sorted(
        c.email for c in contacts if c.email
    )
    first = mailserver.handler.to(contacts[0].email or "")[0].message
    assert first["Subject"].startswith("Invitation:")
    assert first["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = first.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = first.get_body(("html",)).get_content()  # type: ignore[union-attr]
    token = token_in(text)
    hrefs = {a.attributes["href"] for a in LexborHTMLParser(html).css("a")}
    assert f"{BASE}/s/{token}" in hrefs and f"{BASE}/optout/{token}" in hrefs
    assert "Person 0" in text
    with frame.store.session() as session:
        link = find_link(session, token)
        assert link is not None and link.contact_id == contacts[0].id
        assert link.role == contacts[0].role and link.organisation_id == contacts[0].organisation_id
    # A second run the same day finds nothing due.
    again = send(frame, mailserver, key)
    assert again.planned == {} and len(mailserver.handler.received) == 40


def test_reminders_only_to_those_who_have_not_completed_or_opted_out(
    frame: Frame, mailserver: MailServer, key: bytes
) -> None:
    send(frame, mailserver, key)
    contacts = frame.contacts()
    invitations = {
        r.recipients[0]: token_in(r.message.get_body(("plain",)).get_content())  # type: ignore[union-attr]
        for r in mailserver.handler.received
    }
    done, opted = contacts[:5], contacts[5:8]
    with frame.store.session() as session:
        for c in done:
            link = find_link(session, invitations[c.email or ""])
            assert link is not None
            link.completed_on = TODAY
        for c in opted:
            opt_out(session, c.id)
    mailserver.handler.received.clear()
    assert send(frame, mailserver, key, TODAY + dt.timedelta(days=8)).planned == {}
    report = send(frame, mailserver, key, TODAY + dt.timedelta(days=9))
    assert report.planned == {"reminder-1": 32} and report.sent == 32
    reminded = {r.recipients[0] for r in mailserver.handler.received}
    assert reminded == {c.email for c in contacts[8:]}
    # The reminder carries the same personal link as the invitation.
    for r in mailserver.handler.received:
        body = r.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert token_in(body) == invitations[r.recipients[0]]
        assert r.message["Subject"].startswith("Reminder:")
    # Day 30 with reminder 2 unsent: only reminder 2, once.
    mailserver.handler.received.clear()
    assert send(frame, mailserver, key, TODAY + dt.timedelta(days=30)).planned == {"reminder-2": 32}
    assert send(frame, mailserver, key, TODAY + dt.timedelta(days=31)).planned == {}
    assert len(mailserver.handler.received) == 32


def test_missed_first_reminder_sends_only_the_latest(
    frame: Frame, mailserver: MailServer, key: bytes
) -> None:
    send(frame, mailserver, key)
    report = send(frame, mailserver, key, TODAY + dt.timedelta(days=25))
    assert report.planned == {"reminder-2": 40}


def test_bounce_is_recorded_and_stops_further_messages(
    frame: Frame, mailserver: MailServer, key: bytes
) -> None:
    with frame.store.session() as session:
        first = frame.contacts()[0]
        session.execute(
            update(type(first))
            .where(type(first).id == first.id)
            .values(email="bounce0@example.org")
        )
    report = send(frame, mailserver, key)
    assert report.bounced == 1 and report.sent == 39
    contact = frame.contacts()[0]
    assert contact.bounced_at is not None
    with frame.store.session() as session:
        message = session.scalar(select(Message).where(Message.contact_id == contact.id))
        assert (
            message is not None and message.status == "bounced" and "550" in (message.detail or "")
        )
    report = send(frame, mailserver, key, TODAY + dt.timedelta(days=9))
    assert report.planned == {"reminder-1": 39}


def test_permanent_refusal_at_end_of_data_is_a_bounce_never_retried(
    frame: Frame, mailserver: MailServer, key: bytes
) -> None:
    """A 5xx after the message (RFC 5321: permanent) bounces; a 4xx there is tried again."""
    contacts = frame.contacts()
    Contact = type(contacts[0])
    with frame.store.session() as session:
        for contact, address in zip(
            contacts, ["reject0@example.org", "defer1@example.org"], strict=False
        ):
            session.execute(update(Contact).where(Contact.id == contact.id).values(email=address))
    report = send(frame, mailserver, key)
    assert (report.sent, report.bounced, report.failed) == (38, 1, 1)
    rejected, deferred = frame.contacts()[:2]
    assert rejected.bounced_at is not None and deferred.bounced_at is None
    with frame.store.session() as session:
        by_contact = {
            m.contact_id: (m.status, m.detail) for m in session.scalars(select(Message)).all()
        }
    status, detail = by_contact[rejected.id]
    assert status == "bounced" and detail is not None and detail.startswith("554 5.7.1")
    status, detail = by_contact[deferred.id]
    assert status == "failed" and detail is not None and detail.startswith("451 4.3.0")
    # Later runs: the deferred message is tried again (up to its limit), the refused never.
    for _ in range(3):
        send(frame, mailserver, key)
    attempts = mailserver.handler.data_attempts
    assert attempts["reject0@example.org"] == 1
    assert attempts["defer1@example.org"] == 3
    # And no reminder goes to the bounced address either.
    send(frame, mailserver, key, TODAY + dt.timedelta(days=9))
    assert attempts["reject0@example.org"] == 1


def test_server_down_marks_nothing_sent_and_next_run_sends(frame: Frame, key: bytes) -> None:
    from mailserver import free_port

    dead = Mailer(
        transport=SmtpTransport(SmtpSettings("127.0.0.1", free_port(), starttls=False, timeout=2)),
        sender=Sender("survey@example.org"),
        base_url=BASE,
        templates=Templates(),
        sealer=Sealer(key),
    )
    report = send_due(frame.store, frame.wave, dead, today=TODAY)
    assert report.stopped is not None and "cannot reach" in report.stopped
    assert report.sent == 0 and report.failed == 0  # nothing was claimed
    with MailServer() as server:
        report = send(frame, server, key)
        assert report.sent == 40 and len(server.handler.received) == 40


def test_edited_templates_are_used(
    frame: Frame, mailserver: MailServer, key: bytes, tmp_path: Path
) -> None:
    (tmp_path / "invitation.subject").write_text("Have your say, {{ name }}\n")
    m = mailer(mailserver, key, tmp_path)
    try:
        send_due(frame.store, frame.wave, m, today=TODAY)
    finally:
        assert m.transport is not None
        m.transport.close()
    subjects = {r.message["Subject"] for r in mailserver.handler.received}
    assert "Have your say, Person 3" in subjects


def test_wrong_link_key_is_refused_before_sending(
    frame: Frame, mailserver: MailServer, key: bytes
) -> None:
    from cryptography.fernet import Fernet

    send(frame, mailserver, key)
    with pytest.raises(LinkKeyError, match="not the one"):
        send(frame, mailserver, Fernet.generate_key(), TODAY + dt.timedelta(days=9))


def test_key_file_is_created_private_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHAREDGROUND_LINK_KEY", raising=False)
    path = tmp_path / "k.key"
    with pytest.raises(LinkKeyError, match="no link key"):
        load_key(path)
    made = load_key(path, create=True)
    assert path.stat().st_mode & 0o777 == 0o600
    assert load_key(path) == made


def test_dry_run_sends_nothing_and_records_nothing(
    frame: Frame, mailserver: MailServer, key: bytes
) -> None:
    report = send(frame, mailserver, key, dry_run=True)
    assert report.planned == {"invitation": 40}
    assert report.examples and "Subject: Invitation" in report.examples[0]
    assert mailserver.handler.received == []
    with frame.store.session() as session:
        assert session.scalar(select(Message.id)) is None
        assert session.scalar(select(Link.id)) is None


def test_watch_mode_runs_cycles_and_sends_once(
    frame: Frame, mailserver: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner
    from cryptography.fernet import Fernet

    from sharedground.cli import main

    monkeypatch.setenv("SHAREDGROUND_LINK_KEY", Fernet.generate_key().decode())
    args = [
        "send",
        "--wave",
        frame.wave,
        "--database",
        frame.store.url,
        "--smtp-host",
        "127.0.0.1",
        "--smtp-port",
        str(mailserver.port),
        "--no-starttls",
        "--from",
        "survey@example.org",
        "--watch",
        "--interval",
        "1",
        "--cycles",
        "3",
    ]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.count("Due: 40 invitation") == 1
    assert result.output.count("Due: nothing") == 2
    assert len(mailserver.handler.received) == 40
