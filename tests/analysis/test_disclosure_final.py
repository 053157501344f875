"""The wave's final figures: late returns join in whole batches per trust x role group.

`released_mask` is checked on its own (and under Hypothesis: every step between two
readings is, in every group, none or a multiple of the batch), then `final_release` and
`released_data` against a real store: the closing mark is set once, by the first reading
after the close, and a late response dated before the close is still late.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from sharedground.analysis.disclosure.final import (
    closing_mark,
    fieldwork_over,
    final_release,
    marked,
    released_data,
    released_mask,
)
from sharedground.analysis.source import load_wave
from sharedground.instrument import builtin
from sharedground.store import Response, Store, Wave
from sharedground.store.schema import HeldResponse

TODAY = dt.date(2027, 7, 1)
CLOSES = TODAY - dt.timedelta(days=1)


def test_every_response_by_the_mark_and_whole_batches_of_each_group_after_it() -> None:
    cells = ["A/ce", "A/cd", "A/ce", "A/ce", "A/ce", "A/ce", "A/cd", "B/ce", "A/ce", "A/ce"]
    late = [False, False, True, True, True, True, True, True, True, True]
    # A/ce: 6 late (the first 5 shown), A/cd: 1 late (waits), B/ce: 1 late (waits).
    assert released_mask(cells, late, 5).tolist() == [
        True, True, True, True, True, True, False, False, True, False,
    ]  # fmt: skip
    assert released_mask(cells, late, 1).all()
    assert released_mask([], [], 5).tolist() == []


@settings(max_examples=200, deadline=None)
@given(
    arrivals=st.lists(st.sampled_from(["A/ce", "A/cd", "B/ce", "B/md", "-/ce"]), max_size=40),
    on_time=st.integers(0, 10),
    batch=st.integers(2, 6),
)
def test_between_any_two_readings_each_group_moves_by_whole_batches(
    arrivals: list[str], on_time: int, batch: int
) -> None:
    """Read after every arrival: in no group does the released set ever take in fewer than
    a batch at once, and it never gives back a response it showed."""
    readings: list[Counter[str]] = []
    shown_before: set[int] = set()
    for n in range(on_time, len(arrivals) + 1):
        cells = arrivals[:n]
        late = [i >= on_time for i in range(n)]
        mask = released_mask(cells, late, batch)
        shown = {i for i in range(n) if mask[i]}
        assert shown_before <= shown
        shown_before = shown
        readings.append(Counter(cells[i] for i in shown))
    for i, earlier in enumerate(readings):
        for later in readings[i + 1 :]:
            for group in set(earlier) | set(later):
                assert (later[group] - earlier[group]) % batch == 0


def _wave(store: Store, closes: dt.date | None = CLOSES) -> int:
    with store.session() as session:
        wave = store.create_wave(session, "w", builtin("dmr-2015"), opens=CLOSES - dt.timedelta(30))
        wave.closes = closes
        session.flush()
        return wave.id


def _respond(store: Store, wave_id: int, role: str, trust: str | None, n: int = 1) -> None:
    with store.session() as session:
        ids = store.organisation_ids(session, [trust]) if trust else {}
        for _ in range(n):
            count = session.query(Response).count()
            session.add(
                Response(
                    wave_id=wave_id,
                    respondent_key=f"r{count}",
                    role=role,
                    organisation_id=ids.get(trust) if trust else None,
                    mode="postal",
                    # Dated before the close, as a paper return received then and keyed
                    # later is: the date cannot tell a late response.
                    submitted_on=CLOSES - dt.timedelta(days=3),
                    answers={"role": role, "local_rating": "4"},
                )
            )


def test_the_closing_mark_is_set_once_by_the_first_reading_after_the_close(
    store: Store,
) -> None:
    wave_id = _wave(store)
    _respond(store, wave_id, "chief_executive", "RA1", 6)
    with store.session() as session:
        wave = session.get(Wave, wave_id)
        assert closing_mark(session, wave, CLOSES) is None  # fieldwork runs on the last day
        assert marked(session, wave_id) is None
        mark = closing_mark(session, wave, TODAY)
        assert mark == session.query(Response.id).order_by(Response.id.desc()).first()[0]
    _respond(store, wave_id, "chief_executive", "RA1", 4)
    _respond(store, wave_id, "clinical_director", "RA1", 1)
    with store.session() as session:
        wave = session.get(Wave, wave_id)
        assert closing_mark(session, wave, TODAY) == mark  # not moved by later readings
        found = final_release(session, wave, TODAY)
    assert found is not None
    assert (found.received, found.late, found.included, found.held_back) == (11, 5, 6, 5)
    assert found.waiting == {("RA1", "chief_executive"): 4, ("RA1", "clinical_director"): 1}
    assert found.next_needed == 1
    assert "5 returned after it" in found.describe() and "5 wait" in found.describe()
    _respond(store, wave_id, "chief_executive", "RA1", 1)
    with store.session() as session:
        found = final_release(session, session.get(Wave, wave_id), TODAY, "RA1")
    assert found is not None and (found.included, found.held_back) == (11, 1)


def test_a_held_questionnaire_after_the_mark_leaves_the_figures_final(store: Store) -> None:
    wave_id = _wave(store)
    _respond(store, wave_id, "chief_executive", "RA1", 5)
    with store.session() as session:
        wave = session.get(Wave, wave_id)
        session.add(
            HeldResponse(
                wave_id=wave_id,
                role="chief_executive",
                organisation_id=None,
                mode="postal",
                submitted_on=CLOSES,
                answers={},
            )
        )
        session.flush()
        # Held before any final reading: fieldwork is not over (it may still join).
        assert not fieldwork_over(session, wave, TODAY)
        session.execute(HeldResponse.__table__.delete())
        assert closing_mark(session, wave, TODAY) is not None
        session.add(
            HeldResponse(
                wave_id=wave_id,
                role="chief_executive",
                organisation_id=None,
                mode="postal",
                submitted_on=CLOSES,
                answers={},
            )
        )
        session.flush()
        # Once read as final the figures stay final: it will join as a late return.
        assert fieldwork_over(session, wave, TODAY)


def test_released_data_leaves_out_the_waiting_rows_of_the_frame(store: Store) -> None:
    wave_id = _wave(store)
    _respond(store, wave_id, "chief_executive", "RA1", 3)
    _respond(store, wave_id, "clinical_director", None, 2)
    data = load_wave(store, "w")
    same, found = released_data(store, data, TODAY)
    assert found is not None and same.frame.height == 5
    _respond(store, wave_id, "chief_executive", "RA1", 2)
    _respond(store, wave_id, "clinical_director", None, 5)
    _respond(store, wave_id, "chief_executive", "RB2", 1)
    data = load_wave(store, "w")
    assert data.frame.height == 13
    released, found = released_data(store, data, TODAY)
    assert found is not None and released.frame.height == 10
    trusts = released.frame["trust"].to_list()
    assert trusts.count("RA1") == 3 and trusts.count(None) == 7 and "RB2" not in trusts
    # While fieldwork runs nothing is left out (live figures are the results page's).
    with store.session() as session:
        wave = session.scalar(select(Wave).where(Wave.id == wave_id))
        assert wave is not None
        wave.closes = None
    data = load_wave(store, "w")
    assert released_data(store, data, TODAY) == (data, None)


def test_a_frame_that_does_not_match_the_store_is_refused(store: Store) -> None:
    from dataclasses import replace

    from sharedground.store import StoreError

    wave_id = _wave(store)
    _respond(store, wave_id, "chief_executive", "RA1", 3)
    data = load_wave(store, "w")
    with pytest.raises(StoreError, match="changed while the final figures were read"):
        released_data(store, replace(data, frame=data.frame.head(2)), TODAY)
