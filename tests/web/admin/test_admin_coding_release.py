"""A lead's coding pages never show one colleague's comment as the new one (issue #15, item 1).

Before, the coding list showed an organisation lead every comment of the trust as soon as
the team had added the wave's comments (`text add --wave`, which may run during fieldwork):
a lead who reloaded the list after one colleague completed the survey found that colleague's
comment as the one new row. Now comments follow the trust's figures (`text.released`):
during fieldwork those of the responses its live results include, in whole batches of the
threshold; after the close, late returns in whole batches of their role group.

Real completions through the web survey, one at a time; the team adds the comments now after
every completion, now after several; the lead reads the list after each, as an attacker
would, and the respondents whose comments appear between two readings are none or a batch.
"""

from __future__ import annotations

import datetime as dt
import itertools

from adminhelpers import PASSWORD, login
from sqlalchemy import select
from starlette.testclient import TestClient
from webhelpers import ANSWERS, Survey, answer_sections, make_survey, parse, submit

from sharedground.analysis.disclosure.release import release
from sharedground.fieldwork import accounts
from sharedground.fieldwork.clock import study_today
from sharedground.instrument import builtin
from sharedground.store import Organisation, Response, Store, Wave
from sharedground.store.textschema import TextSource
from sharedground.text import frames, sources

SECTIONS = [s.id for s in builtin("dmr-2015").sections]
THRESHOLD = 5


def _respond(client: TestClient, survey: Survey, i: int) -> None:
    token = survey.link(trust="RA1")
    answers = {k: dict(v) for k, v in ANSWERS.items()}
    answers["overall"]["comments_overall"] = f"Comment of respondent {i}: rotas come first."
    answer_sections(client, token, SECTIONS, answers)
    assert submit(client, token).status_code == 303


def _add(store: Store, wave: str) -> None:
    """`text add --wave`: the team turns the wave's new comments into sources."""
    with store.session() as session:
        sources.add_comments(store, session, store.get_wave(session, wave))


def _reading(client: TestClient, store: Store) -> dict[str, object]:
    """The respondents whose comments the lead's list shows, the total it gives, its note."""
    page = parse(client.get("/admin/coding").text)
    # A lead's list names sources by GUID (random), in GUID order.
    listed = [tr.attributes["data-source"] or "" for tr in page.css("#sources tbody tr")]
    assert listed == sorted(listed)
    with store.session() as session:
        responses = {
            source.response_id
            for source in session.scalars(select(TextSource).where(TextSource.guid.in_(listed)))
        }
    caption = page.css_first("#sources caption")
    note = page.css_first(".release-note")
    return {
        "responses": responses,
        "total": int(caption.text().split()[-1]) if caption is not None else 0,
        "shown": int(note.attributes["data-shown"] or 0) if note is not None else None,
        "final": note is not None and note.attributes.get("data-final") == "true",
        "next": None if note is None else note.attributes.get("data-next"),
    }


def _open(client: TestClient, store: Store, response_ids: set[int]) -> set[int]:
    """Of the comment sources of these responses, those the lead can open (not a 404)."""
    with store.session() as session:
        found = session.execute(
            select(TextSource.guid, TextSource.response_id).where(
                TextSource.response_id.in_(response_ids)
            )
        ).all()
    return {
        response_id
        for guid, response_id in found
        if client.get(f"/admin/coding/sources/{guid}").status_code == 200
    }


def test_a_lead_reading_the_coding_list_after_every_completion_finds_no_ones_comment(
    store: Store,
) -> None:
    today = study_today()
    survey = make_survey(store, closes=today + dt.timedelta(days=10))
    survey.link(trust="RA1")  # makes the organisation, so its lead can have an account
    with store.session() as session:
        accounts.create_user(session, "lead-a", PASSWORD, "lead", "RA1")
        frames.save(session, frames.builtin("dmr-themes"))
    # When the team adds comments: after every completion up to the 8th, then not until
    # after the 16th, nor after the 17th. So at the 15th the figures take in responses 6-10
    # while only 1-8 have sources: the list must not show 6-8 and then, at the next add,
    # 9-10 alone; nor, after the close, the 17th's comment alone once it is added.
    not_added_after = {9, 10, 11, 12, 13, 14, 15, 17}
    app = survey.app()
    readings = []
    with TestClient(app) as lead, TestClient(app) as respondent:
        assert login(lead, "lead-a") == 303
        readings.append(_reading(lead, store))
        for i in range(1, 18):
            _respond(respondent, survey, i)
            if i not in not_added_after:
                _add(store, survey.wave)
            readings.append(_reading(lead, store))
        # Comments not yet released, and those released: which the lead can open.
        with store.session() as session:
            every = set(session.scalars(select(Response.id)))
        hidden = every - readings[-1]["responses"]  # type: ignore[operator]
        opened_hidden = _open(lead, store, hidden)
        opened_shown = _open(lead, store, readings[-1]["responses"])  # type: ignore[arg-type]

        # Fieldwork over: the comments of every response, once the team has added them all.
        survey.today[0] = today + dt.timedelta(days=11)
        readings.append(_reading(lead, store))
        _add(store, survey.wave)
        readings.append(_reading(lead, store))

    for before, after in itertools.pairwise(readings):
        came = after["responses"] - before["responses"]  # type: ignore[operator]
        assert not before["responses"] - after["responses"]  # type: ignore[operator]
        # The attack: the comments new to the list are none, or a batch of respondents.
        assert len(came) == 0 or len(came) >= THRESHOLD, (before, after)
        # Every respondent here wrote one comment: the total moves with them.
        assert int(after["total"]) - int(before["total"]) == len(came)  # type: ignore[call-overload]
    # During fieldwork the list did change, in whole batches.
    assert {len(r["responses"]) for r in readings[:18]} >= {0, 5, 10}  # type: ignore[arg-type]
    # A comment not yet released cannot be opened either, as if it were another trust's.
    assert hidden and opened_hidden == set() and opened_shown
    # The page says what it shows and when it next changes, as the results page does; what
    # it shows is within what the trust's live results include.
    for i, reading in enumerate(readings[1:18], start=1):
        live = release(i, THRESHOLD, False)
        if reading["shown"] is None:
            # Not listed at all while fewer than a batch of the released respondents wrote
            # (`text.released.listed_to_lead`): here, before the first batch is released.
            assert not reading["responses"] and live.shown < THRESHOLD
            continue
        assert reading["shown"] == len(reading["responses"]) <= live.shown  # type: ignore[arg-type]
        assert reading["next"] == str(live.next_at) and not reading["final"]
    assert readings[-1]["final"] and readings[-1]["responses"] == every


def test_a_late_returns_comment_waits_for_its_batch(store: Store) -> None:
    """After the close a paper return keyed late is in the final figures only with a whole
    batch of its role group; before, its comment was listed for the lead at once."""
    today = study_today()
    survey = make_survey(store, closes=today + dt.timedelta(days=10))
    survey.link(trust="RA1")
    with store.session() as session:
        accounts.create_user(session, "lead-a", PASSWORD, "lead", "RA1")
        frames.save(session, frames.builtin("dmr-themes"))
    app = survey.app()
    with TestClient(app) as lead, TestClient(app) as respondent:
        assert login(lead, "lead-a") == 303
        for i in range(7):
            _respond(respondent, survey, i)
        survey.today[0] = today + dt.timedelta(days=20)
        _add(store, survey.wave)
        closed = _reading(lead, store)
        assert closed["final"] and len(closed["responses"]) == 7  # type: ignore[arg-type]

        def late(n: int) -> set[int]:
            added = []
            with store.session() as session:
                wave = session.scalar(select(Wave).where(Wave.name == survey.wave))
                ra1 = session.scalar(select(Organisation.id).where(Organisation.code == "RA1"))
                assert wave is not None and wave.closes is not None
                first = session.scalar(select(Response).where(Response.wave_id == wave.id))
                assert first is not None
                for i in range(n):
                    row = Response(
                        wave_id=wave.id,
                        respondent_key=f"late-{i}-{n}",
                        role=first.role,
                        organisation_id=ra1,
                        mode="postal",
                        submitted_on=wave.closes,
                        answers={**first.answers, "comments_overall": f"Late return {i} of {n}."},
                    )
                    session.add(row)
                    added.append(row)
                session.flush()
                ids = {row.id for row in added}
            _add(store, survey.wave)
            return ids

        one = late(1)
        reading = _reading(lead, store)
        assert reading["responses"] == closed["responses"]
        assert reading["total"] == closed["total"]
        assert _open(lead, store, one) == set()
        rest = late(THRESHOLD - 1)
        batch = _reading(lead, store)
        assert batch["responses"] == closed["responses"] | one | rest  # type: ignore[operator]
        assert _open(lead, store, one) != set()


def test_role_groups_on_the_list_follow_the_released_commenters(store: Store) -> None:
    """While fieldwork runs, a comment's role group is named by the released commenters
    alone. Twelve respondents of RA1, clinical and medical directors in turn: the first 5
    are released (3 clinical, 2 medical directors, each under the threshold), so no group
    is named; the wave's text decision, counting all 12 stored (6 and 6), named both, and
    could start naming a group as the one respondent who completed last wrote."""
    today = study_today()
    survey = make_survey(store, closes=today + dt.timedelta(days=10))
    survey.link(trust="RA1")
    with store.session() as session:
        accounts.create_user(session, "lead-a", PASSWORD, "lead", "RA1")
        frames.save(session, frames.builtin("dmr-themes"))
    app = survey.app()
    with TestClient(app) as lead, TestClient(app) as respondent:
        assert login(lead, "lead-a") == 303
        for i in range(1, 13):
            token = survey.link(trust="RA1")
            answers = {k: dict(v) for k, v in ANSWERS.items()}
            answers["about_you"]["role"] = "clinical_director" if i % 2 else "medical_director"
            answers["overall"]["comments_overall"] = f"Comment of respondent {i}: rotas first."
            answer_sections(respondent, token, SECTIONS, answers)
            assert submit(respondent, token).status_code == 303
        _add(store, survey.wave)
        page = parse(lead.get("/admin/coding").text)
    rows = page.css("#sources tbody tr")
    assert len(rows) == release(12, THRESHOLD, False).shown == 5
    for row in rows:
        assert row.css_first(".role-withheld") is not None, row.text()
