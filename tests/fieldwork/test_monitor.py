"""Monitoring figures, checked against counts made independently from what the test did."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.fernet import Fernet
from fieldhelpers import TRUSTS, Frame
from mailserver import MailServer
from sqlalchemy import update

from sharedground.cli import main
from sharedground.fieldwork import monitor
from sharedground.fieldwork.clock import study_today
from sharedground.fieldwork.contacts import opt_out
from sharedground.fieldwork.links import create_links, find_link
from sharedground.fieldwork.mail import Sender, Templates
from sharedground.fieldwork.monitor import current_status, wave_status
from sharedground.fieldwork.paper import key_questionnaire
from sharedground.fieldwork.personal import Sealer
from sharedground.fieldwork.postal import draw_sample
from sharedground.fieldwork.sending import Mailer, send_due
from sharedground.fieldwork.smtp import SmtpSettings, SmtpTransport
from sharedground.store import Contact
from sharedground.web.survey import open_visit, submit

#: The study's day: messages are dated by when they were really sent, in the study's zone.
TODAY = study_today()


def test_status_counts_each_person_once(frame: Frame, mailserver: MailServer) -> None:
    key = Fernet.generate_key()
    transport = SmtpTransport(SmtpSettings("127.0.0.1", mailserver.port, starttls=False))
    mailer = Mailer(transport, Sender("s@example.org"), "https://x", Templates(), Sealer(key))
    contacts = frame.contacts()
    with frame.store.session() as session:
        session.execute(
            update(Contact).where(Contact.id == contacts[39].id).values(email="bounce@example.org")
        )
    send_due(frame.store, frame.wave, mailer, today=TODAY)
    tokens = {}
    for r in mailserver.handler.received:
        text = r.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        tokens[r.recipients[0]] = text.split("https://x/s/")[1][:32]
    online = contacts[0:6]  # roles rotate: 2 chief executives, 2 medical directors, 1, 1
    with frame.store.session() as session:
        for c in online:
            link = find_link(session, tokens[c.email or ""])
            assert link is not None
            link.started_on = link.completed_on = TODAY + dt.timedelta(days=2)
        started = find_link(session, tokens[contacts[6].email or ""])
        assert started is not None
        started.started_on = TODAY
        for c in contacts[7:9]:
            opt_out(session, c.id)
    send_due(frame.store, frame.wave, mailer, today=TODAY + dt.timedelta(days=9))
    transport.close()
    draw_sample(frame.store, frame.wave, {"chief_executive": 1.0}, seed=2, exclude_completed=False)
    ces = [c for c in frame.contacts() if c.role == "chief_executive"]
    answers = {"local_rating": "3"}
    with frame.store.session() as session:
        # contacts[0] is a chief executive who answered online: a duplicate.
        for c in (ces[0], ces[3]):
            key_questionnaire(
                session, str(c.serial), answers, "a", received_on=TODAY + dt.timedelta(days=20)
            )
            key_questionnaire(session, str(c.serial), answers, "b")
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        figures = wave_status(session, wave, today=TODAY + dt.timedelta(days=21))
    total = figures.total
    assert total.contacts == 40
    assert total.invited == 39 and total.bounced == 1
    assert total.opted_out == 2
    # Reminded: invited, not completed (6), not opted out (2) on day 9.
    assert total.reminded == 39 - 6 - 2
    assert total.started == 7 + 1  # six completed online, one started, one paper
    assert total.completed == 7  # ces[0] counted once
    assert figures.by_mode == {"online": 6, "postal": 1}
    assert figures.postal == {
        "sampled": 9,  # ten chief executives, but contacts[8] (one of them) opted out
        "returned": 2,
        "reconciled": 1,
        "awaiting_keying": 0,
        "discrepant": 0,
        "duplicates": 1,
        "online_drafts_superseded": 0,  # ces[3] had not started online
    }
    by_role = {row.group: row for row in figures.by_role}
    expected_ce = sum(1 for c in online if c.role == "chief_executive") + 1
    assert by_role["chief_executive"].completed == expected_ce
    assert by_role["chief_executive"].rate == expected_ce / 10
    assert sum(row.completed for row in figures.by_trust) == 7
    # Messages are dated when really sent (the simulated day only decides what is due).
    assert figures.reminders == [(TODAY, "reminder-1", 31)]
    last = figures.daily[-1]
    assert (last[1], last[2]) == (6, 1)
    assert figures.daily[0][0] == TODAY

    trust = contacts[0].organisation_id
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        code = next(r.group for r in figures.by_trust if r.contacts == 14)
        one = wave_status(session, wave, trust=code)
    assert one.total.contacts == 14 and [r.group for r in one.by_trust] == [code]
    assert trust is not None

    result = CliRunner().invoke(
        main, ["status", "--wave", frame.wave, "--database", frame.store.url]
    )
    assert result.exit_code == 0, result.output
    assert "By role" in result.output and "Completed by mode: online 6, postal 1" in result.output

    # `status` reads an SQLite file without SQLAlchemy (issue #16): the same figures.
    later = TODAY + dt.timedelta(days=21)
    quick = current_status(frame.store.url, frame.wave, today=later)
    if frame.store.backend == "sqlite":
        assert quick is not None and quick.held == 0
        assert quick.figures == figures
        one_quick = current_status(frame.store.url, frame.wave, trust=code)
        assert one_quick is not None and one_quick.figures == one
    else:
        assert quick is None


def _status_both_ways(
    args: list[str], monkeypatch: pytest.MonkeyPatch
) -> tuple[list[str], str, str]:
    """`sharedground ARGS` read as it chooses, then through the store: how, and both outputs."""
    read: list[str] = []
    real = monitor.current_status

    def spy(*given: Any, **named: Any) -> monitor.QuickStatus | None:
        found = real(*given, **named)
        read.append("quick" if found is not None else "store")
        return found

    with monkeypatch.context() as patch:
        patch.setattr(monitor, "current_status", spy)
        quick = CliRunner().invoke(main, args, terminal_width=120)
        patch.setattr(monitor, "current_status", lambda *_a, **_k: read.append("store"))
        slow = CliRunner().invoke(main, args, terminal_width=120)
    assert quick.exit_code == slow.exit_code == 0, quick.output + slow.output
    return read, quick.output, slow.output


def test_status_prints_the_same_however_it_reads(
    anonymous_frame: Frame, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = anonymous_frame.store
    with store.session() as session:
        wave = store.get_wave(session, anonymous_frame.wave)
        token = create_links(session, wave, 1, role="chief_executive")[0]
    with store.session() as session:
        visit = open_visit(session, token, TODAY)
        visit.answers = {"local_rating": "2"}
        assert submit(session, visit, TODAY)  # held: the wave is anonymous
    for trust in ([], ["--trust", TRUSTS[1]], ["--trust", "nowhere"]):
        args = ["status", "--wave", anonymous_frame.wave, "--database", store.url, *trust]
        read, quick, slow = _status_both_ways(args, monkeypatch)
        assert read == ["quick" if store.backend == "sqlite" else "store", "store"]
        assert quick == slow
        assert "Held for anonymity: 1 completed" in quick
    missing = ["status", "--wave", "nope", "--database", store.url]
    failed = CliRunner().invoke(main, missing)
    assert failed.exit_code == 1 and "no wave 'nope'" in failed.output
