"""Bounces that come back by e-mail: real delivery reports in a real mbox and Maildir.

The invitations go through the real SMTP server (aiosmtpd); the reports are built with the
standard `email` package around the messages that server received, as a receiving system
would, and written to disk with `mailbox`.
"""

from __future__ import annotations

import datetime as dt
import email.message
import mailbox
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.mime.base import MIMEBase
from email.mime.message import MIMEMessage
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from pathlib import Path

import pytest
from click.testing import CliRunner
from fieldhelpers import Frame
from mailserver import MailServer
from sqlalchemy import select, update

from sharedground.cli import main
from sharedground.fieldwork import monitor
from sharedground.fieldwork.bounces import parse_report, read_notices
from sharedground.fieldwork.mail import Sender, Templates
from sharedground.fieldwork.personal import Sealer
from sharedground.fieldwork.sending import Mailer, SendReport, in_doubt, send_due
from sharedground.fieldwork.smtp import SmtpSettings, SmtpTransport
from sharedground.store import Contact
from sharedground.store.schema import Message

TODAY = dt.date.today()


@pytest.fixture
def key() -> bytes:
    from cryptography.fernet import Fernet

    return Fernet.generate_key()


def send(frame: Frame, server: MailServer, key: bytes, day: dt.date = TODAY) -> SendReport:
    transport = SmtpTransport(SmtpSettings("127.0.0.1", server.port, starttls=False))
    mailer = Mailer(
        transport=transport,
        sender=Sender("Survey team <survey@example.org>"),
        base_url="https://survey.example.org",
        templates=Templates(),
        sealer=Sealer(key),
    )
    try:
        return send_due(frame.store, frame.wave, mailer, today=day)
    finally:
        transport.close()


# -- reports as receiving systems write them -------------------------------------------------


def dsn(
    original: EmailMessage | None,
    recipient: str | None,
    action: str,
    status: str,
    *,
    headers_only: bool = False,
    extra: Sequence[tuple[str, str, str]] = (),
) -> bytes:
    """An RFC 3464 report: readable text, the delivery-status fields, the original."""
    report = MIMEMultipart("report", report_type="delivery-status")
    report["From"] = "Mail Delivery System <MAILER-DAEMON@mx.example.net>"
    report["To"] = "survey@example.org"
    report["Subject"] = "Undelivered Mail Returned to Sender"
    report.attach(MIMEText("This is the mail system. Your message could not be delivered.\n"))
    fields = email.message.Message()
    fields.set_type("message/delivery-status")
    per_message = email.message.Message()
    per_message["Reporting-MTA"] = "dns; mx.example.net"
    blocks: list[email.message.Message | str] = [per_message]
    for rcpt, act, code in [(recipient, action, status), *extra]:
        block = email.message.Message()
        if rcpt is not None:
            block["Final-Recipient"] = f"rfc822; {rcpt}"
        block["Action"] = act
        block["Status"] = code
        block["Diagnostic-Code"] = f"smtp; {code[0]}50 {code} mailbox says no"
        blocks.append(block)
    fields.set_payload(blocks)
    report.attach(fields)
    if original is not None:
        if headers_only:
            part = MIMEBase("text", "rfc822-headers")
            part.set_payload(header_section(original))
            report.attach(part)
        else:
            report.attach(MIMEMessage(original))
    return report.as_bytes()


def header_section(message: EmailMessage) -> str:
    """The header lines of a message as they travel (non-ASCII RFC 2047-encoded)."""
    return message.as_bytes().replace(b"\r\n", b"\n").split(b"\n\n", 1)[0].decode("ascii") + "\n"


def plain_bounce(original: EmailMessage, text: str, *, attach: bool = True) -> bytes:
    """A failure notice in no standard form: text, and the original attached or quoted."""
    notice = MIMEMultipart("mixed")
    notice["From"] = "MAILER-DAEMON@old-mx.example.net"
    notice["To"] = "survey@example.org"
    notice["Subject"] = "failure notice"
    if attach:
        notice.attach(MIMEText(text))
        notice.attach(MIMEMessage(original))
    else:
        quoted = header_section(original)
        notice.attach(
            MIMEText(f"{text}\n\n--- Below this line is a copy of the message.\n\n{quoted}")
        )
    return notice.as_bytes()


def reply(address: str) -> bytes:
    message = EmailMessage()
    message["From"] = address
    message["To"] = "survey@example.org"
    message["Subject"] = "Re: Invitation"
    message.set_content("Happy to help; I will fill it in next week.")
    return message.as_bytes()


def rows(output: str) -> dict[str, int]:
    """The counts the `bounces` command prints, by label."""
    found = re.findall(r"^\s+([a-z][a-z ,]+?)\s{2,}(\d+)$", output, re.MULTILINE)
    return {label: int(n) for label, n in found}


# -- the whole loop --------------------------------------------------------------------------


def test_reported_bounces_are_recorded_once_counted_and_not_reminded(
    frame: Frame, mailserver: MailServer, key: bytes, tmp_path: Path
) -> None:
    people = frame.contacts()
    with frame.store.session() as session:
        # Refused at RCPT when sent: bounced already before any report comes back.
        session.execute(
            update(Contact).where(Contact.id == people[7].id).values(email="bounce7@example.org")
        )
    report = send(frame, mailserver, key)
    assert report.sent == 39 and report.bounced == 1
    sent = {r.recipients[0]: r.message for r in mailserver.handler.received}

    def original(i: int) -> EmailMessage:
        return sent[people[i].email or ""]

    with frame.store.session() as session:
        # A message left in doubt by an interrupted run: a report settles it.
        session.execute(
            update(Message).where(Message.contact_id == people[9].id).values(status="unknown")
        )

    box = mailbox.mbox(str(tmp_path / "bounces.mbox"))
    box.add(dsn(original(0), people[0].email, "failed", "5.1.1"))
    box.add(dsn(original(1), people[1].email, "failed", "5.2.1", headers_only=True))
    box.add(dsn(original(2), people[2].email, "delayed", "4.4.7"))
    box.add(reply(people[3].email or ""))
    box.add(dsn(None, "stranger@elsewhere.example", "failed", "5.1.1"))
    # Forwarded on to an address we never had: the Message-ID still names the contact.
    box.add(dsn(original(6), "someone.new@forwarded.example", "failed", "5.1.1"))
    box.add(dsn(None, "bounce7@example.org", "failed", "5.1.1"))
    box.add(dsn(original(9), people[9].email, "failed", "5.1.1"))
    box.flush()
    box.close()
    maildir = mailbox.Maildir(str(tmp_path / "Maildir"), create=True)
    maildir.add(plain_bounce(original(4), "550 5.1.1 <x>: Recipient address rejected"))
    maildir.add(plain_bounce(original(5), "This is a permanent error.", attach=False))
    # Our Message-ID, but of another wave: not this wave's bounce, whoever it was sent to.
    other = EmailMessage()
    other["To"] = people[8].email
    other["Message-ID"] = "<sg.999.1.invitation@example.org>"
    maildir.add(dsn(other, people[8].email, "failed", "5.1.1"))
    junk = tmp_path / "scan.eml"
    junk.write_bytes(b"\x00\x01 not mail at all")
    empty_report = tmp_path / "empty-report.eml"
    empty_report.write_bytes(
        dsn(original(10), people[10].email, "failed", "5.1.1")
        .replace(b"Final-Recipient", b"X-Final-Recipient")
        .replace(b"Action: failed", b"X-Action: failed")
        .replace(b"Status: 5.1.1", b"X: 1")
    )

    args = ["bounces", "--wave", frame.wave, "--database", frame.store.url]
    paths = [
        str(tmp_path / "bounces.mbox"),
        str(tmp_path / "Maildir"),
        str(junk),
        str(empty_report),
    ]
    first = CliRunner().invoke(main, [*args, *paths])
    assert first.exit_code == 0, first.output
    assert re.search(r"Read (\d+) message", first.output).group(1) == "13"  # type: ignore[union-attr]
    assert rows(first.output) == {
        "bounces recorded": 6,
        "already recorded": 1,
        "delayed, not recorded": 1,
        f"not in wave {frame.wave}": 2,
        "not delivery reports": 1,
        "unreadable": 2,
    }
    unreadable = dict(re.findall(r"unreadable (\S+): (.+)$", first.output, re.MULTILINE))
    assert set(unreadable) == {str(junk), str(empty_report)}
    assert "not an e-mail message" in unreadable[str(junk)]
    assert "neither Action nor Status" in unreadable[str(empty_report)]

    again = CliRunner().invoke(main, [*args, *paths])
    assert again.exit_code == 0, again.output
    assert rows(again.output)["bounces recorded"] == 0
    assert rows(again.output)["already recorded"] == 7

    bounced = {0, 1, 4, 5, 6, 7, 9}
    contacts = frame.contacts()
    assert {i for i, c in enumerate(contacts) if c.bounced_at is not None} == bounced
    with frame.store.session() as session:
        status = {
            contact_id: (state, detail)
            for contact_id, state, detail in session.execute(
                select(Message.contact_id, Message.status, Message.detail)
            )
        }
        assert status[people[0].id][0] == "bounced" and "5.1.1" in (status[people[0].id][1] or "")
        assert status[people[2].id][0] == "sent"  # a delay is not a bounce
        assert status[people[9].id][0] == "bounced"
        assert in_doubt(session, frame.store.get_wave(session, frame.wave)) == []
        figures = monitor.wave_status(session, frame.store.get_wave(session, frame.wave))
    assert figures.total.bounced == len(bounced)

    mailserver.handler.received.clear()
    reminders = send(frame, mailserver, key, TODAY + dt.timedelta(days=9))
    assert reminders.planned == {"reminder-1": 40 - len(bounced)}
    reminded = {r.recipients[0] for r in mailserver.handler.received}
    assert reminded == {c.email for i, c in enumerate(contacts) if i not in bounced}
    assert contacts[2].email in reminded


# -- reading reports -------------------------------------------------------------------------


def _parse(data: bytes):  # type: ignore[no-untyped-def]
    import email as email_pkg

    return parse_report(email_pkg.message_from_bytes(data), "test")


def test_standard_report_actions_and_statuses() -> None:
    original = EmailMessage()
    original["To"] = "a@example.org"
    original["Message-ID"] = "<sg.3.41.reminder-1@example.org>"
    notices = _parse(
        dsn(
            original,
            "a@example.org",
            "failed",
            "5.1.1",
            extra=[("b@example.org", "delayed", "4.4.1"), ("c@example.org", "delivered", "2.0.0")],
        )
    )
    assert notices is not None
    assert [(n.address, n.hard, n.status) for n in notices] == [
        ("a@example.org", True, "5.1.1"),
        ("b@example.org", False, "4.4.1"),
    ]
    assert notices[0].message_id == "<sg.3.41.reminder-1@example.org>"
    assert notices[0].original_to == "a@example.org"
    # The Action decides: a server that gave up retrying failed the message for good.
    gave_up = _parse(dsn(original, "a@example.org", "failed", "4.4.7"))
    assert gave_up is not None and [n.hard for n in gave_up] == [True]
    # Without an Action, the status class.
    no_action = _parse(
        dsn(original, "a@example.org", "delayed", "4.2.2").replace(b"Action:", b"X-A:")
    )
    assert no_action is not None and [n.hard for n in no_action] == [False]


def test_plain_notices_delays_and_other_mail() -> None:
    original = EmailMessage()
    original["To"] = "a@example.org"
    original["Message-ID"] = "<sg.3.41.invitation@example.org>"
    hard = _parse(plain_bounce(original, "Sorry. 550 5.7.1 mailbox disabled"))
    assert hard is not None and [(n.hard, n.status, n.original_to) for n in hard] == [
        (True, "5.7.1", "a@example.org")
    ]
    delayed = _parse(plain_bounce(original, "Delivery delayed; the server will retry for 4 days."))
    assert delayed is not None and [n.hard for n in delayed] == [False]
    assert _parse(reply("a@example.org")) is None


def test_reading_paths_reports_what_cannot_be_read(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("nothing here")
    (tmp_path / "empty.eml").write_bytes(b"")
    reading = read_notices([tmp_path / "notes", tmp_path / "empty.eml", tmp_path / "missing"])
    assert reading.messages == 0
    assert {(Path(u.source).name, u.reason) for u in reading.unreadable} == {
        ("notes", "a folder that is neither a Maildir nor holds .eml files"),
        ("empty.eml", "the file is empty"),
        ("missing", "no such file or folder"),
    }
