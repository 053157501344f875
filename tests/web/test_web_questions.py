"""Reading, checking and showing a page's answers (no HTTP, no database)."""

from __future__ import annotations

import pytest

from sharedground.exchange.columns import item_columns
from sharedground.instrument import Instrument, builtin
from sharedground.web.questions import (
    build_fields,
    display,
    missing_required,
    raw_from_answers,
    read_section,
    section_names,
)


@pytest.fixture(scope="module")
def dmr() -> Instrument:
    return builtin("dmr-2015")


def section(dmr: Instrument, section_id: str):  # type: ignore[no-untyped-def]
    return next(s for s in dmr.sections if s.id == section_id)


def test_field_names_are_the_exchange_columns(dmr: Instrument) -> None:
    names = [n for s in dmr.sections for n in section_names(s)]
    assert [n for n in names if n != "role"] == [c.name for c in item_columns(dmr)]


def test_answers_read_as_exchange_cell_text(dmr: Instrument) -> None:
    answers, problems = read_section(
        section(dmr, "barriers"),
        {"barriers": ["lack_trust", "time_doctors"], "comments_barriers": ["  a\r\nb  "]},
    )
    assert problems == []
    # Questionnaire order, whatever order the browser sent them in; CRLF becomes LF.
    assert answers == {"barriers": "time_doctors;lack_trust", "comments_barriers": "a\nb"}


def test_none_is_exclusive(dmr: Instrument) -> None:
    page = section(dmr, "barriers")
    assert read_section(page, {"barriers": ["none"]}) == ({"barriers": "none"}, [])
    answers, problems = read_section(page, {"barriers": ["none", "lack_trust"]})
    assert answers == {}
    assert [p.name for p in problems] == ["barriers"]
    assert "not both" in problems[0].message
    assert problems[0].anchor == "q-barriers"


def test_pick_up_to_three(dmr: Instrument) -> None:
    page = section(dmr, "external_factors")
    four = ["francis_reports", "berwick_review", "keogh_review", "social_media"]
    answers, problems = read_section(
        page, {"factors_positive": four, "factors_negative": ["social_media"]}
    )
    assert answers == {"factors_negative": "social_media"}
    assert [(p.name, p.message) for p in problems] == [
        ("factors_positive", "Select up to 3 options (you selected 4)")
    ]


def test_values_outside_the_options_are_refused(dmr: Instrument) -> None:
    answers, problems = read_section(
        section(dmr, "overall"), {"local_rating": ["9"], "outlook_improve": ["yes"]}
    )
    assert answers == {}
    assert {p.name for p in problems} == {"local_rating", "outlook_improve"}
    _, grid = read_section(section(dmr, "initiatives"), {"initiatives:paired_learning": ["maybe"]})
    assert [(p.name, p.anchor) for p in grid] == [
        ("initiatives:paired_learning", "q-initiatives--paired_learning")
    ]


def test_role_is_required_unless_the_link_carries_it(dmr: Instrument) -> None:
    page = section(dmr, "about_you")
    _, problems = read_section(page, {"country": ["wales"]})
    assert [p.message for p in problems] == ["Select which best describes your current role"]
    answers, problems = read_section(
        page, {"country": ["wales"], "role": ["chief_executive"]}, fixed_role="medical_director"
    )
    # The link's role wins: a posted role is ignored, not stored.
    assert (answers, problems) == ({"country": "wales"}, [])
    assert missing_required(dmr, {}, None)[0][1].id == "role"
    assert missing_required(dmr, {}, "medical_director") == []


def test_text_length_and_control_characters(dmr: Instrument) -> None:
    page = section(dmr, "barriers")
    answers, problems = read_section(page, {"barriers_other": ["x" * 501]})
    assert answers == {}
    assert problems[0].message == "Your answer must be 500 characters or fewer (it has 501)"
    answers, _ = read_section(page, {"barriers_other": ["a\x00b\x07c"]})
    assert answers == {"barriers_other": "abc"}


def test_round_trip_through_the_form(dmr: Instrument) -> None:
    stored = {"barriers": "time_doctors;lack_trust", "comments_barriers": "fine"}
    page = section(dmr, "barriers")
    raw = raw_from_answers(page, stored)
    assert read_section(page, raw) == (stored, [])
    fields = {f.name: f for f in build_fields(page, raw)}
    ticked = [c.value for c in fields["barriers"].choices if c.checked]
    assert ticked == ["time_doctors", "lack_trust"]
    assert fields["barriers"].none_choice is not None
    assert not fields["barriers"].none_choice.checked
    assert fields["comments_barriers"].text == "fine"


def test_display_in_words(dmr: Instrument) -> None:
    assert display(dmr.item("barriers"), {"barriers": "none"}) == [
        "There are no significant barriers"
    ]
    assert display(dmr.item("local_rating"), {"local_rating": "5"}) == ["5 – Excellent"]
    assert display(dmr.item("outlook_improve"), {"outlook_improve": "dont_know"}) == [
        "Don't know / not applicable"
    ]
    assert display(dmr.item("initiatives"), {"initiatives:paired_learning": "no"}) == [
        "Paired learning between managers and doctors: No"
    ]
    assert display(dmr.item("country"), {}) == []
