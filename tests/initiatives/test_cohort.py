"""Cohorts and stored pairs on SQLite and PostgreSQL: import, propose, change by hand,
confirm, log activity, and every refusal the issue lists (nothing written)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from sharedground.cli import main
from sharedground.exchange.problems import InvalidFile
from sharedground.initiatives import pairs, participants, register
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.models import Pair, PairActivity, Participant, ParticipantCode
from sharedground.store import Store

COHORT = """name,email,side,role,directorate,grade,reports_to,prefers
Dr Ada,ada@t.nhs.uk,doctor,clinical_director,Surgery,consultant,,bo@t.nhs.uk
Dr Cy,cy@t.nhs.uk,,medical_director,Medicine,consultant,,
Bo,bo@t.nhs.uk,manager,directorate_manager,Medicine,,cy@t.nhs.uk,ada@t.nhs.uk
Di,di@t.nhs.uk,manager,,Surgery,,,
"""


def _initiative(store: Store, kind: str = "paired_learning", trust: str = "RA1") -> int:
    with store.session() as session:
        return register.add(store, session, trust=trust, kind=kind, title="P", actor="t").id


def _count(store: Store, table: type) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_cohort_pairs_and_activity(store: Store, tmp_path: Path) -> None:
    ident = _initiative(store)
    path = tmp_path / "cohort.csv"
    path.write_text(COHORT)
    assert participants.import_cohort(store, ident, path, actor="lead") == 4
    with store.session() as session:
        codes = list(session.scalars(select(ParticipantCode.code)))
        assert participants.counts(session, ident) == {"doctor": 2, "manager": 2}
    assert len(set(codes)) == 4 and all(len(c) == 24 for c in codes)  # 96 bits, hex
    assert not any(c in COHORT for c in codes)
    proposal = pairs.propose(store, ident, cross_directorate=True, actor="lead")
    # Ada (Surgery) may not have Di (Surgery); Cy is Bo's line manager: Ada-Bo, Cy-Di.
    got = {(p.doctor.email, p.manager.email) for p in proposal.pairs}
    assert got == {("ada@t.nhs.uk", "bo@t.nhs.uk"), ("cy@t.nhs.uk", "di@t.nhs.uk")}
    with store.session() as session:
        assert pairs.confirm(session, ident, actor="lead") == 2
    with store.session() as session:
        listed = pairs.list_pairs(session, ident, today=dt.date.today() + dt.timedelta(weeks=7))
        assert all(p.stale for p in listed)
        first = listed[0].id
        pairs.log_activity(
            session,
            ident,
            first,
            on=dt.date.today(),
            kind="meeting",
            attended=["doctor", "manager"],
            minutes="Agreed a project",
            actor="lead",
        )
    with store.session() as session:
        listed = pairs.list_pairs(session, ident, today=dt.date.today() + dt.timedelta(weeks=5))
        assert [(p.id == first, p.activities, p.stale) for p in listed] == [
            (True, 1, False),
            (False, 0, False),
        ]
    # A new proposal keeps confirmed pairs.
    again = pairs.propose(store, ident, cross_directorate=True, actor="lead")
    assert again.pairs == [] and _count(store, Pair) == 2


def test_refusals_write_nothing(store: Store, tmp_path: Path) -> None:
    ident = _initiative(store)
    social = _initiative(store, kind="joint_social_events")
    path = tmp_path / "cohort.csv"
    path.write_text(COHORT)
    with pytest.raises(InitiativeError, match="a kind without participants"):
        participants.import_cohort(store, social, path, actor="lead")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "email,side,role,reports_to,prefers\n"
        "a@t.nhs.uk,doctor,chief_executive,,\n"
        "b@t.nhs.uk,nurse,,b@t.nhs.uk,\n"
        "not-an-address,doctor,,,\n"
        "c@t.nhs.uk,doctor,,,d@t.nhs.uk\n"
        "d@t.nhs.uk,doctor,,,\n"
        "d@t.nhs.uk,manager,,,\n"
    )
    with pytest.raises(InvalidFile) as refused:
        participants.import_cohort(store, ident, bad, actor="lead")
    assert {(p.row, p.column) for p in refused.value.problems} == {
        (2, "side"),
        (3, "side"),
        (3, "reports_to"),
        (4, "email"),
        (5, "prefers"),
        (7, "email"),
    }
    assert _count(store, Participant) == 0
    path.write_text(COHORT)
    participants.import_cohort(store, ident, path, actor="lead")
    with pytest.raises(InvalidFile, match="in the cohort already"):
        participants.import_cohort(store, ident, path, actor="lead")
    cases = [
        (
            lambda s: pairs.set_pair(s, ident, "ada@t.nhs.uk", "cy@t.nhs.uk", actor="l"),
            "both doctors",
        ),
        (
            lambda s: pairs.set_pair(s, ident, "cy@t.nhs.uk", "bo@t.nhs.uk", actor="l"),
            "line manager",
        ),
        (
            lambda s: pairs.set_pair(s, ident, "ada@t.nhs.uk", "zed@t.nhs.uk", actor="l"),
            "not in the cohort",
        ),
        (
            lambda s: pairs.set_pair(
                s, ident, "ada@t.nhs.uk", "di@t.nhs.uk", actor="l", trust="RB2"
            ),
            "no initiative",
        ),
        (
            lambda s: pairs.log_activity(
                s,
                ident,
                999,
                on=dt.date.today(),
                kind="meeting",
                attended=["doctor"],
                minutes=None,
                actor="l",
            ),
            "no pair 999 in initiative",
        ),
    ]
    for call, message in cases:
        with pytest.raises(InitiativeError, match=message), store.session() as session:
            call(session)
    assert _count(store, Pair) == 0
    # A participant in two pairs: confirm one, then try to pair Ada again.
    with store.session() as session:
        pairs.set_pair(session, ident, "ada@t.nhs.uk", "di@t.nhs.uk", actor="l")
        pairs.confirm(session, ident, actor="l")
    with pytest.raises(InitiativeError, match="in confirmed pair"), store.session() as session:
        pairs.set_pair(session, ident, "ada@t.nhs.uk", "bo@t.nhs.uk", actor="l")
    with pytest.raises(InitiativeError, match="in the future"), store.session() as session:
        pair = session.scalar(select(Pair.id))
        assert pair is not None
        pairs.log_activity(
            session,
            ident,
            pair,
            on=dt.date.today() + dt.timedelta(days=2),
            kind="meeting",
            attended=["doctor"],
            minutes=None,
            actor="l",
        )
    assert _count(store, Pair) == 1 and _count(store, PairActivity) == 0


def test_the_cli_walk_through(store: Store, tmp_path: Path) -> None:
    url = store.engine.url.render_as_string(hide_password=False)

    def run(*args: str) -> str:
        result = CliRunner().invoke(main, [*args, "--database", url])
        assert result.exit_code == 0, result.output
        return result.output

    ident = _initiative(store)
    path = tmp_path / "cohort.csv"
    path.write_text(COHORT)
    run("participants", "import", str(ident), str(path))
    assert "2 doctor(s), 2 manager(s)" in run("participants", "list", str(ident))
    out = run("pairs", "propose", str(ident))
    assert "Dr Ada  +  Bo  (different directorates (Surgery / Medicine); both asked" in out
    assert "2 pairs: everyone on the smaller side has a partner" in out
    run("pairs", "confirm", str(ident))
    with store.session() as session:
        pair = session.scalar(select(Pair.id).order_by(Pair.id))
    run(
        "pairs",
        "log",
        str(ident),
        str(pair),
        "--on",
        dt.date.today().isoformat(),
        "--kind",
        "shadowing_day",
    )
    assert "1 activities" in run("pairs", "list", str(ident))
    bad = CliRunner().invoke(
        main,
        [
            "pairs",
            "log",
            str(ident),
            "77",
            "--on",
            "2026-01-01",
            "--kind",
            "meeting",
            "--database",
            url,
        ],
    )
    assert bad.exit_code == 1 and "no pair 77" in bad.output and "Traceback" not in bad.output


def test_participants_chosen_from_a_waves_contacts(store: Store, tmp_path: Path) -> None:
    from sharedground.fieldwork.contacts import import_contacts
    from sharedground.instrument import builtin

    with store.session() as session:
        store.create_wave(session, "w", builtin("dmr-2015"))
    frame = tmp_path / "contacts.csv"
    frame.write_text(
        "name,email,role,trust,directorate\n"
        "Dr Md,md@ra1.nhs.uk,medical_director,RA1,Board\n"
        "Dm,dm@ra1.nhs.uk,directorate_manager,RA1,Surgery\n"
        "Other,cd@rb2.nhs.uk,clinical_director,RB2,Surgery\n"
    )
    import_contacts(store, frame, "w")
    ident = _initiative(store)
    for emails, message in (
        (["md@ra1.nhs.uk", "cd@rb2.nhs.uk"], "cd@rb2.nhs.uk: not a contact of this trust"),
        (["nobody@ra1.nhs.uk"], "not a contact of this trust"),
    ):
        with pytest.raises(InitiativeError, match=message):
            participants.add_from_contacts(store, ident, "w", emails, actor="lead")
    assert _count(store, Participant) == 0
    added = participants.add_from_contacts(
        store, ident, "w", ["MD@ra1.nhs.uk", "dm@ra1.nhs.uk"], actor="lead"
    )
    assert added == 2
    with store.session() as session:
        people = {
            m.email: (m.side, m.role, m.directorate) for m in participants.members(session, ident)
        }
    assert people == {
        "md@ra1.nhs.uk": ("doctor", "medical_director", "Board"),
        "dm@ra1.nhs.uk": ("manager", "directorate_manager", "Surgery"),
    }
    with pytest.raises(InitiativeError, match="in the cohort already"):
        participants.add_from_contacts(store, ident, "w", ["md@ra1.nhs.uk"], actor="lead")
