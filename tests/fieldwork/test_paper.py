"""Paper returns: double entry, discrepancies, reconciliation, de-duplication."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from fieldhelpers import Frame
from sqlalchemy import select

from sharedground.exchange.problems import InvalidFile
from sharedground.fieldwork import anonymity
from sharedground.fieldwork.paper import (
    KeyingError,
    discrepancies,
    enter_file,
    key_questionnaire,
    reconcile,
    returns,
)
from sharedground.fieldwork.personal import Sealer, ensure_links
from sharedground.fieldwork.postal import PostalError, draw_sample
from sharedground.store import Contact, Response, Wave
from sharedground.store.schema import PaperKeying, PaperReturn
from sharedground.web.survey import LinkRefused, LinkState, open_visit

ANSWERS = {
    "role": "chief_executive",
    "local_rating": "4",
    "power_balance_right": "tend_to_agree",
    "barriers": "lack_trust;time_doctors",
    "initiatives:paired_learning": "yes",
    "comments_overall": "Good working relationships here.",
}
ALL = {
    "chief_executive": 1.0,
    "medical_director": 1.0,
    "clinical_director": 1.0,
    "directorate_manager": 1.0,
}


def _serials(frame: Frame) -> dict[int, str]:
    draw_sample(frame.store, frame.wave, ALL, seed=1)
    return {c.id: c.serial for c in frame.contacts() if c.serial}


def _responses(frame: Frame) -> list[Response]:
    with frame.store.session() as session:
        return list(session.scalars(select(Response).order_by(Response.id)))


def test_agreeing_keyings_become_one_response(frame: Frame) -> None:
    serials = _serials(frame)
    contact = frame.contacts()[0]
    serial = serials[contact.id]
    with frame.store.session() as session:
        first = key_questionnaire(session, serial, ANSWERS, "keyer-a")
        assert (first.keying, first.status) == (1, "keying")
    assert _responses(frame) == []  # one keying is not a response
    reordered = dict(ANSWERS, barriers="time_doctors; lack_trust")
    with frame.store.session() as session:
        second = key_questionnaire(session, serial.replace("-", ""), reordered, "keyer-b")
    assert (second.keying, second.status) == (2, "reconciled")
    [response] = _responses(frame)
    assert response.mode == "postal" and response.role == "chief_executive"
    assert response.respondent_key == f"postal-{serial}"
    expected = {k: v for k, v in ANSWERS.items() if k != "role"}
    expected["barriers"] = "time_doctors;lack_trust"  # questionnaire order
    assert response.answers == expected
    done = frame.contacts()[0]
    assert done.completed_mode == "postal" and done.completed_on is not None


def test_discrepancies_are_listed_and_must_be_resolved(frame: Frame) -> None:
    serial = next(iter(_serials(frame).values()))
    second = dict(ANSWERS, local_rating="3", power_balance_right=None)
    second["initiatives:paired_learning"] = "no"
    with frame.store.session() as session:
        key_questionnaire(session, serial, ANSWERS, "a")
        result = key_questionnaire(session, serial, second, "b")
    assert result.status == "discrepant"
    assert result.discrepancies == {
        "local_rating": ("4", "3"),
        "power_balance_right": ("tend_to_agree", ""),
        "initiatives:paired_learning": ("yes", "no"),
    }
    assert _responses(frame) == []
    with frame.store.session() as session:
        assert set(discrepancies(session, serial)) == set(result.discrepancies)
        with pytest.raises(KeyingError, match="cannot be reconciled"):
            reconcile(session, serial, {"local_rating": "4"}, "reviewer")
    with frame.store.session() as session:
        reconcile(
            session,
            serial,
            {"local_rating": "4", "power_balance_right": "", "initiatives:paired_learning": "no"},
            "reviewer",
        )
    [response] = _responses(frame)
    assert response.answers["local_rating"] == "4"
    assert "power_balance_right" not in response.answers
    assert response.answers["initiatives:paired_learning"] == "no"
    assert response.answers["comments_overall"] == ANSWERS["comments_overall"]


def test_keying_rules(frame: Frame) -> None:
    serial = next(iter(_serials(frame).values()))
    with frame.store.session() as session:
        with pytest.raises(PostalError, match="check digit"):
            bad = serial[:-1] + str((int(serial[-1]) + 1) % 10)
            key_questionnaire(session, bad, ANSWERS, "a")
        with pytest.raises(KeyingError) as caught:
            key_questionnaire(session, serial, dict(ANSWERS, barriers="a;b", local_rating="9"), "a")
        assert {p.column for p in caught.value.problems} == {"barriers", "local_rating"}
        with pytest.raises(KeyingError, match="at most 3"):
            four = "lack_trust;time_doctors;time_managers;other"
            key_questionnaire(session, serial, dict(ANSWERS, barriers=four), "a")
    with frame.store.session() as session:
        key_questionnaire(session, serial, ANSWERS, "a")
    with frame.store.session() as session, pytest.raises(KeyingError, match="someone else"):
        key_questionnaire(session, serial, ANSWERS, "a")
    with frame.store.session() as session:
        key_questionnaire(session, serial, ANSWERS, "b")
    with frame.store.session() as session, pytest.raises(KeyingError, match="twice already"):
        key_questionnaire(session, serial, ANSWERS, "c")
    assert len(_responses(frame)) == 1


def _links(frame: Frame) -> dict[int, str]:
    sealer = Sealer(Fernet.generate_key())
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        contacts = list(session.scalars(select(Contact).where(Contact.wave_id == wave.id)))
        return ensure_links(session, wave, contacts, sealer)


def test_online_first_makes_the_paper_a_reported_duplicate(frame: Frame) -> None:
    tokens = _links(frame)
    serials = _serials(frame)
    contact = frame.contacts()[1]
    from sharedground.fieldwork.links import find_link

    with frame.store.session() as session:
        link = find_link(session, tokens[contact.id])
        assert link is not None
        link.completed_on = dt.date.today()
    with frame.store.session() as session:
        first = key_questionnaire(session, serials[contact.id], ANSWERS, "a")
        second = key_questionnaire(session, serials[contact.id], ANSWERS, "b")
    assert first.status == second.status == "duplicate"
    assert _responses(frame) == []
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        rows = returns(session, wave, "duplicate")
    assert [(r.serial, r.duplicate_of) for r in rows] == [(serials[contact.id], "online")]


def test_paper_first_closes_the_online_link(frame: Frame) -> None:
    tokens = _links(frame)
    serials = _serials(frame)
    contact = frame.contacts()[2]
    with frame.store.session() as session:
        key_questionnaire(session, serials[contact.id], ANSWERS, "a")
    with frame.store.session() as session, pytest.raises(LinkRefused) as refused:
        open_visit(session, tokens[contact.id], dt.date.today())
    assert refused.value.state is LinkState.COMPLETED


def test_anonymous_wave_keeps_no_answers_by_serial(anonymous_frame: Frame) -> None:
    serial = next(iter(_serials(anonymous_frame).values()))
    with anonymous_frame.store.session() as session:
        key_questionnaire(session, serial, ANSWERS, "a")
        key_questionnaire(session, serial, ANSWERS, "b")
    # Held until a batch is waiting (fieldwork/anonymity.py), then released.
    assert _responses(anonymous_frame) == []
    with anonymous_frame.store.session() as session:
        assert anonymity.held(session, session.scalar(select(Wave.id))) == 1
        assert anonymity.release_due(session) == 0
        assert anonymity.release_due(session, minimum=1) == 1
    [response] = _responses(anonymous_frame)
    assert serial not in response.respondent_key and response.mode == "postal"
    with anonymous_frame.store.session() as session:
        paper = session.scalar(select(PaperReturn))
        assert paper is not None and paper.status == "reconciled" and paper.answers is None
        assert all(k.answers == {} for k in session.scalars(select(PaperKeying)))


def test_bulk_entry_file_is_all_or_nothing(frame: Frame, tmp_path: Path) -> None:
    serials = list(_serials(frame).values())
    path = tmp_path / "keyed.csv"
    header = "serial,keyer,received,role,local_rating,barriers\n"
    rows = [
        f"{serials[0]},a,2026-03-01,chief_executive,4,lack_trust\n",
        f"{serials[0]},b,2026-03-01,chief_executive,4,lack_trust\n",
        f"{serials[1]},a,,medical_director,2,\n",
        f"{serials[1]},b,,medical_director,3,\n",
        f"{serials[2]},a,,medical_director,7,\n",
    ]
    path.write_text(header + "".join(rows))
    with pytest.raises(InvalidFile) as caught:
        enter_file(frame.store, path)
    assert [(p.row, p.column) for p in caught.value.problems] == [(6, "local_rating")]
    assert _responses(frame) == []
    path.write_text(header + "".join(rows[:4]))
    summary = enter_file(frame.store, path)
    assert (summary.keyings, summary.reconciled, summary.discrepant) == (4, 1, [serials[1]])
    [response] = _responses(frame)
    assert response.submitted_on == dt.date(2026, 3, 1)
