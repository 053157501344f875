"""A lead's live results never move by one response (issue #15, item 1).

Real completions through the web survey, one at a time; after each, the lead reads the
trust's results page, as an attacker would, and subtracts the reading before from the
reading after. The page must either not have changed or have taken in at least a batch of
the threshold (5) responses at once, so the difference is the answers of five people or
more, never of the one who just responded.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random

import pytest
from adminhelpers import PASSWORD, login, settled
from starlette.testclient import TestClient
from webhelpers import ANSWERS, Survey, answer_sections, make_survey, parse, submit

from sharedground.analysis.disclosure.release import release
from sharedground.fieldwork import accounts
from sharedground.fieldwork.clock import study_today
from sharedground.instrument import builtin
from sharedground.store import Store

SECTIONS = [s.id for s in builtin("dmr-2015").sections]
LIKERT = ["strongly_agree", "tend_to_agree", "tend_to_disagree", "strongly_disagree"]
THRESHOLD = 5


def _reading(client: TestClient) -> dict[str, object]:
    page = parse(settled(client, "/admin/waves/pilot/trusts/RA1/results"))
    note = page.css_first("#release")
    shares = {
        table.attributes["data-question"]: [td.text().strip() for td in table.css("td")]
        for table in page.css("table[data-question]")
    }
    return {
        "shown": int(note.attributes["data-shown"]) if note is not None else 0,
        "final": note is not None and note.attributes.get("data-final") == "true",
        "shares": shares,
    }


def _respond(client: TestClient, survey: Survey, outlook: str) -> None:
    token = survey.link(trust="RA1")
    answers = {k: dict(v) for k, v in ANSWERS.items()}
    answers["overall"]["outlook_improve"] = outlook
    answer_sections(client, token, SECTIONS, answers)
    assert submit(client, token).status_code == 303


def test_release_steps() -> None:
    assert release(4, 5, False).shown == 0
    assert [release(n, 5, False).shown for n in (9, 10, 14, 15)] == [0, 5, 5, 10]
    assert release(14, 5, False).next_at == 15
    # The final step after the last live one is a whole batch or more.
    for n in range(0, 40):
        live = release(n, 5, False).shown
        assert n - live >= 5 or live == 0
        assert release(n, 5, True).shown == n
    # After the close, late returns (paper keyed late) join the final figures in whole
    # batches: every step between final readings is 0 or at least 5.
    finals = [release(20 + late, 5, True, late).shown for late in range(0, 13)]
    assert finals == [20] * 5 + [25] * 5 + [30] * 3
    assert release(23, 5, True, 3).next_at == 25
    assert release(25, 5, True, 5).next_at is None
    with pytest.raises(ValueError):
        release(3, 5, True, 4)


def test_a_lead_reading_after_every_completion_learns_no_ones_answers(store: Store) -> None:
    today = study_today()
    survey = make_survey(store, closes=today + dt.timedelta(days=10))
    survey.link(trust="RA1")  # makes the organisation, so its lead can have an account
    with store.session() as session:
        accounts.create_user(session, "lead-a", PASSWORD, "lead", "RA1")
    rng = random.Random(15)
    given: list[str] = []
    app = survey.app()
    with TestClient(app) as lead, TestClient(app) as respondent:
        assert login(lead, "lead-a") == 303
        readings = [_reading(lead)]
        for _ in range(17):
            given.append(rng.choice(LIKERT))
            _respond(respondent, survey, given[-1])
            readings.append(_reading(lead))
        # Fieldwork over: the closing day has passed, nothing held back.
        survey.today[0] = today + dt.timedelta(days=11)
        readings.append(_reading(lead))

    for before, after in itertools.pairwise(readings):
        step = int(after["shown"]) - int(before["shown"])  # type: ignore[call-overload]
        if step == 0:
            # Nothing moved: the one who just responded is not in the figures at all.
            assert after["shares"] == before["shares"]
        else:
            assert step >= THRESHOLD
    live = [r["shown"] for r in readings[:-1]]
    assert live == [release(n, THRESHOLD, False).shown for n in range(18)]
    assert readings[-1]["final"] and readings[-1]["shown"] == 17

    # The attack itself: the counts of the outlook question's answers in each reading,
    # differenced, never isolate one person's answer.
    def counts(reading: dict[str, object]) -> list[int]:
        shares = reading["shares"].get("outlook_improve")  # type: ignore[attr-defined]
        if not shares:
            return [0] * 5
        n = int(reading["shown"])  # type: ignore[call-overload]
        return [round(float(s.rstrip("%")) * n / 100) if s != "–" else 0 for s in shares]

    for j in range(1, len(readings)):
        diff = [a - b for a, b in zip(counts(readings[j]), counts(readings[j - 1]), strict=True)]
        assert sum(diff) in (0,) or sum(diff) >= THRESHOLD
    # What the figures do show is exactly the first responses, batch by batch.
    final = counts(readings[-1])
    labels = ["strongly_agree", "tend_to_agree", "tend_to_disagree", "strongly_disagree"]
    assert final[:4] == [given.count(v) for v in labels]


def test_late_returns_join_the_final_figures_in_whole_batches(store: Store) -> None:
    """A paper return keyed after the close must not move the final figures by one."""
    from sqlalchemy import select

    from sharedground.store import Organisation, Response, Wave

    today = study_today()
    survey = make_survey(store, closes=today + dt.timedelta(days=10))
    survey.link(trust="RA1")
    with store.session() as session:
        accounts.create_user(session, "lead-a", PASSWORD, "lead", "RA1")
    app = survey.app()
    with TestClient(app) as lead, TestClient(app) as respondent:
        assert login(lead, "lead-a") == 303
        for _ in range(7):
            _respond(respondent, survey, "tend_to_agree")
        survey.today[0] = today + dt.timedelta(days=20)
        closed = _reading(lead)
        assert closed["final"] and closed["shown"] == 7

        def late(n: int) -> None:
            with store.session() as session:
                wave = session.scalar(select(Wave).where(Wave.name == survey.wave))
                ra1 = session.scalar(select(Organisation.id).where(Organisation.code == "RA1"))
                assert wave is not None and wave.closes is not None
                first = session.scalar(select(Response).where(Response.wave_id == wave.id))
                assert first is not None
                for i in range(n):
                    session.add(
                        Response(
                            wave_id=wave.id,
                            respondent_key=f"late-{i}-{n}",
                            role=first.role,
                            organisation_id=ra1,
                            mode="postal",
                            submitted_on=wave.closes + dt.timedelta(days=3),
                            answers=dict(first.answers),
                        )
                    )

        late(1)
        one_late = _reading(lead)
        assert one_late["final"] and one_late["shares"] == closed["shares"]
        assert one_late["shown"] == 7
        late(4)
        batch = _reading(lead)
        assert batch["shown"] == 12
