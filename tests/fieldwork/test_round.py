"""A whole fieldwork round from the command line, on synthetic contacts.

Import contacts, send invitations, complete some surveys online, send reminders (only to
the rest), draw and print the postal sample, key paper returns twice, reconcile, and read
the response rates: with no duplicates and no message sent twice.
"""

from __future__ import annotations

import collections
import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from fieldhelpers import write_contacts
from mailserver import MailServer
from sqlalchemy import func, select

from sharedground.cli import main
from sharedground.fieldwork.links import find_link
from sharedground.store import Contact, Response, Store
from sharedground.store.schema import Message
from sharedground.web.survey import open_visit, submit

TODAY = dt.date.today()


@pytest.mark.slow
def test_full_round_from_the_command_line(
    store: Store, tmp_path: Path, mailserver: MailServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHAREDGROUND_LINK_KEY", Fernet.generate_key().decode())
    monkeypatch.setenv("SHAREDGROUND_DATABASE_URL", store.url)
    monkeypatch.setenv("SHAREDGROUND_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("SHAREDGROUND_SMTP_PORT", str(mailserver.port))
    monkeypatch.setenv("SHAREDGROUND_SMTP_STARTTLS", "0")
    monkeypatch.setenv("SHAREDGROUND_MAIL_FROM", "Survey team <survey@example.org>")
    monkeypatch.setenv("SHAREDGROUND_BASE_URL", "https://survey.example.org")
    runner = CliRunner()

    def cli(*args: str) -> str:
        result = runner.invoke(main, list(args), catch_exceptions=False)
        assert result.exit_code == 0, result.output
        return result.output

    cli("wave", "create", "round", "--opens", TODAY.isoformat())
    cli("contacts", "import", str(write_contacts(tmp_path / "frame.csv", 80)), "--wave", "round")
    assert "Due: 80 invitation" in cli("send", "--wave", "round")

    # Twenty people answer online through their personal links.
    links = {}
    for received in mailserver.handler.received:
        body = received.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        links[received.recipients[0]] = body.split("/s/")[1][:32]
    online = [f"person{i}@example.org" for i in range(0, 80, 4)]
    with store.session() as session:
        for address in online:
            visit = open_visit(session, links[address], TODAY)
            visit.answers = {"local_rating": "4"}
            assert submit(session, visit, TODAY)
    mailserver.handler.received.clear()

    later = (TODAY + dt.timedelta(days=9)).isoformat()
    assert "Due: 60 reminder-1" in cli("send", "--wave", "round", "--today", later)
    reminded = {r.recipients[0] for r in mailserver.handler.received}
    assert len(reminded) == 60 and not reminded & set(online)

    out = cli("postal", "sample", "--wave", "round", "--seed", "2015", "--exclude-completed")
    assert "Drew" in out
    with store.session() as session:
        sampled = list(
            session.scalars(
                select(Contact).where(Contact.serial.is_not(None)).order_by(Contact.serial)
            )
        )
    # Chief executives and medical directors: all 20 of each (none answered online among
    # them? person0, 4, 8... are chief executives: they are left out), 10% and 16% of the rest.
    roles = collections.Counter(c.role for c in sampled)
    assert roles["chief_executive"] == 0 and roles["medical_director"] == 20
    assert roles["clinical_director"] == 2 and roles["directorate_manager"] == 3
    cli("postal", "print", "--wave", "round", "--out", str(tmp_path / "packs"), "--workers", "1")
    assert len(list((tmp_path / "packs").glob("*.pdf"))) == len(sampled) + 1

    keyed = tmp_path / "keyed.csv"
    lines = ["serial,keyer,role,local_rating,barriers"]
    for i, contact in enumerate(sampled[:6]):
        lines.append(f"{contact.serial},ann,{contact.role},3,lack_trust")
        second = "2" if i == 0 else "3"  # one discrepancy to reconcile
        lines.append(f"{contact.serial},bob,{contact.role},{second},lack_trust")
    keyed.write_text("\n".join(lines) + "\n")
    out = cli("postal", "enter", str(keyed))
    assert "12 keyings: 5 questionnaires agreed" in out and "1 need reconciling" in out
    first = str(sampled[0].serial)
    assert "local_rating" in cli("postal", "reconcile", first)
    cli("postal", "reconcile", first, "--set", "local_rating=3", "--reviewer", "cy")

    status = cli("status", "--wave", "round")
    assert "Completed by mode: online 20, postal 6" in status
    with store.session() as session:
        assert session.scalar(select(func.count(Response.id))) == 26
        modes = collections.Counter(session.scalars(select(Response.mode)))
        assert modes == {"online": 20, "postal": 6}
        # No message twice: one row per (contact, kind), and the server saw each once.
        rows = session.execute(select(Message.contact_id, Message.kind)).all()
        assert len(rows) == len(set(rows)) == 140
        link = find_link(session, links[online[0]])
        assert link is not None and link.completed_on == TODAY
