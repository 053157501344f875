"""A paper questionnaire keyed while its respondent had a half-finished survey online.

The paper wins (it is the first completed response): the online draft is deleted, its
answers join no response, the fact is counted in `status` and on the monitoring page, and
the person's link answers "already completed". In an anonymous wave nothing of it ties a
response to the person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from click.testing import CliRunner
from cryptography.fernet import Fernet
from fieldhelpers import Frame
from selectolax.lexbor import LexborHTMLParser
from sqlalchemy import select
from starlette.testclient import TestClient

from sharedground.cli import main
from sharedground.fieldwork import accounts
from sharedground.fieldwork.monitor import wave_status
from sharedground.fieldwork.paper import key_questionnaire
from sharedground.fieldwork.personal import Sealer, ensure_links
from sharedground.fieldwork.postal import draw_sample
from sharedground.store import Contact, Response
from sharedground.store.schema import Base, Draft, Link, PaperReturn, PersonalLink
from sharedground.web import create_app

MARKER = "Half-way through online, never sent"
PAPER = {"role": "chief_executive", "local_rating": "2", "comments_overall": "On paper."}
ADMIN_PASSWORD = "a-long-test-password"


@dataclass
class Person:
    contact_id: int
    serial: str
    token: str
    link_id: int


def _people(frame: Frame) -> list[Person]:
    """Every contact sampled for post, each with a personal link."""
    draw_sample(frame.store, frame.wave, dict.fromkeys(("chief_executive",), 1.0), seed=3)
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        contacts = list(
            session.scalars(
                select(Contact)
                .where(Contact.wave_id == wave.id, Contact.serial.is_not(None))
                .order_by(Contact.id)
            )
        )
        tokens = ensure_links(session, wave, contacts, Sealer(Fernet.generate_key()))
        links = dict(session.execute(select(PersonalLink.contact_id, PersonalLink.link_id)).all())
        return [Person(c.id, str(c.serial), tokens[c.id], links[c.id]) for c in contacts]


def _page(response: object) -> LexborHTMLParser:
    return LexborHTMLParser(response.text)  # type: ignore[attr-defined]


def _csrf(page: LexborHTMLParser) -> str:
    node = page.css_first('input[name="csrf_token"]')
    assert node is not None
    return str(node.attributes["value"])


def _start_online(client: TestClient, token: str) -> str:
    """Answer the first page of the survey and stop; returns the page's form token."""
    page = _page(client.get(f"/s/{token}/page/overall"))
    csrf = _csrf(page)
    response = client.post(
        f"/s/{token}/page/overall",
        data={"csrf_token": csrf, "local_rating": "5", "comments_overall": MARKER},
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text[:300]
    return csrf


def _key_twice(frame: Frame, serial: str) -> None:
    with frame.store.session() as session:
        key_questionnaire(session, serial, PAPER, "keyer-a")
        assert key_questionnaire(session, serial, PAPER, "keyer-b").status == "reconciled"


def _superseded(frame: Frame) -> int:
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        return wave_status(session, wave).postal["online_drafts_superseded"]


def _assert_already_completed(client: TestClient, token: str, csrf: str) -> None:
    for url in (f"/s/{token}", f"/s/{token}/page/overall", f"/s/{token}/check"):
        response = client.get(url)
        assert response.status_code == 410, url
        heading = _page(response).css_first("h1")
        assert heading is not None and heading.text().strip() == (
            "You have already completed this survey"
        )
    # A page left open in the browser and sent now: not thanked for answers never sent.
    response = client.post(f"/s/{token}/check", data={"csrf_token": csrf})
    heading = _page(response).css_first("h1")
    assert heading is not None
    assert heading.text().strip() == "You have already completed this survey"


def _everything_stored(frame: Frame) -> str:
    """The text of every row of every table: where the draft's words must not be."""
    with frame.store.engine.connect() as connection:
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in connection.execute(table.select())
        )


def test_paper_supersedes_an_online_draft_visibly(frame: Frame) -> None:
    drafting, plain_paper, online_only = _people(frame)[:3]
    with TestClient(create_app(frame.store, key=b"k"), base_url="https://testserver") as client:
        csrf = _start_online(client, drafting.token)
        _start_online(client, online_only.token)
        with frame.store.session() as session:
            assert session.get(Draft, drafting.link_id) is not None
        assert _superseded(frame) == 0

        _key_twice(frame, drafting.serial)
        _key_twice(frame, plain_paper.serial)  # never started online: not counted

        with frame.store.session() as session:
            assert session.get(Draft, drafting.link_id) is None
            assert session.get(Draft, online_only.link_id) is not None  # still theirs
            answers = [r.answers for r in session.scalars(select(Response))]
            returned = session.scalar(
                select(PaperReturn).where(PaperReturn.serial == drafting.serial)
            )
            assert returned is not None and returned.status == "reconciled"
        assert len(answers) == 2 and MARKER not in str(answers)
        assert all(a["local_rating"] == "2" for a in answers)  # the paper's, not the draft's
        assert _superseded(frame) == 1
        _assert_already_completed(client, drafting.token, csrf)
        # The one still answering online is not affected.
        assert client.get(f"/s/{online_only.token}/page/overall").status_code == 200

        with frame.store.session() as session:
            accounts.create_user(session, "admin", ADMIN_PASSWORD, "administrator")
        login = _page(client.get("/admin/login"))
        client.post(
            "/admin/login",
            data={"csrf_token": _csrf(login), "username": "admin", "password": ADMIN_PASSWORD},
        )
        monitor = _page(client.get(f"/admin/waves/{frame.wave}/monitor"))
        cell = monitor.css_first('tr[data-postal="online_drafts_superseded"] td')
        assert cell is not None and cell.text().strip() == "1"

    result = CliRunner().invoke(
        main, ["status", "--wave", frame.wave, "--database", frame.store.url]
    )
    assert result.exit_code == 0, result.output
    flat = " ".join(result.output.split())
    assert re.findall(r"online drafts superseded (\d+)", flat) == ["1"]


def test_anonymous_wave_supersedes_without_linking_answers_to_the_person(
    anonymous_frame: Frame,
) -> None:
    frame = anonymous_frame
    drafting = _people(frame)[0]
    with TestClient(create_app(frame.store, key=b"k"), base_url="https://testserver") as client:
        csrf = _start_online(client, drafting.token)
        assert MARKER in _everything_stored(frame)
        _key_twice(frame, drafting.serial)
        _assert_already_completed(client, drafting.token, csrf)
    stored = _everything_stored(frame)
    # The draft's answers are nowhere: not beside the link, not in any response.
    assert MARKER not in stored
    assert _superseded(frame) == 1
    with frame.store.session() as session:
        returned = session.scalar(select(PaperReturn).where(PaperReturn.serial == drafting.serial))
        assert returned is not None and returned.answers is None
        link = session.get(Link, drafting.link_id)
        assert link is not None and link.completed_on is not None
        keys = session.scalars(select(Response.respondent_key)).all()
    # No response names the serial or the link (those are what lead to the person).
    assert not [k for k in keys if drafting.serial in k or f"link-{drafting.link_id}" in k]
