"""Quotations: complete typical sentences, one per respondent, spread across role groups,
attributed by role group alone, none from a group under the threshold."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from text_helpers import ready_to_code, role_wave

from sharedground.store import Store
from sharedground.text import coding, frames, quotations

SIZES = {
    "chief_executive": 3,
    "medical_director": 6,
    "directorate_manager": 6,
    "clinical_director": 6,
}


def _text(i: int, role: str) -> str:
    if i == 3:  # the first medical director: two good sentences, one must be chosen
        return (
            "Finance pressure dominates every single board meeting here. "
            "Finance pressure dominates every meeting of the directorate."
        )
    if i == 4:
        return "Finance pressure, said Dr Smith, dominates every meeting here."
    if i == 5:
        return "finance bad"
    return f"Finance pressure dominates meeting {i} and the next meeting too."


def _wave(store: Store, tmp_path: Path) -> None:
    role_wave(store, tmp_path, SIZES, texts=_text)
    with store.session() as session:
        setup = ready_to_code(store, session, "r")
        for source in setup.sources:
            coding.add(session, source, setup.codes["external_finance"], setup.team)


def test_quotations_spread_complete_and_attributed_by_role_only(
    store: Store, tmp_path: Path
) -> None:
    _wave(store, tmp_path)
    with store.session() as session:
        wave = store.get_wave(session, "r")
        frame = frames.get(session, "dmr-themes")
        three = quotations.pick(store, session, wave, frame, "external_finance", count=3)
        every = quotations.pick(store, session, wave, frame, "external_context", count=50)
    assert [f.name for f in dataclasses.fields(quotations.Quotation)] == ["code", "role", "text"]
    # One from each group that may be quoted (chief executives: 3 < 5, never).
    assert sorted(q.role for q in three) == [
        "Clinical director (or similar)",
        "Directorate manager (or similar)",
        "Medical director",
    ]
    roles = {q.role for q in every}
    assert "Chief executive" not in roles
    texts = [q.text for q in every]
    # Respondents: 18 outside CE, less the one with a removed name and the one fragment.
    assert len(texts) == 16 == len(set(texts))
    assert not any("removed" in t or "Smith" in t or t == "finance bad" for t in texts)
    # The respondent with two good sentences is quoted once, by the more typical and shorter
    # one (no rare words such as "single" and "board"; 59 characters against 61).
    first = [t for t in texts if t.startswith("Finance pressure dominates every")]
    assert first == ["Finance pressure dominates every meeting of the directorate."]


def test_a_sentence_every_comment_shares_is_not_typical(store: Store, tmp_path: Path) -> None:
    closer = "Happy to be contacted about this."

    def text(i: int, role: str) -> str:
        if i % 2 == 0:
            return f"Budget cuts are hurting ward staffing in area {i}. {closer}"
        return f"Parking at the hospital is awful on day {i}. {closer}"

    sizes = {"medical_director": 10, "clinical_director": 10}
    role_wave(store, tmp_path, sizes, texts=text)
    with store.session() as session:
        setup = ready_to_code(store, session, "r")
        wave, frame = setup.wave, setup.frame
        for source in setup.sources:
            if source.content.startswith("Budget"):
                coding.add(session, source, setup.codes["external_finance"], setup.team)
        chosen = quotations.pick(store, session, wave, frame, "external_finance", count=4)
    # The closer is shorter and in every coded comment, but the uncoded comments share it too.
    assert len(chosen) == 4
    assert all(q.text.startswith("Budget cuts are hurting ward staffing") for q in chosen)


def test_a_stock_phrase_is_never_quoted_while_only_a_sample_is_coded(
    store: Store, tmp_path: Path
) -> None:
    closer = "This has been the case for some time."
    views = [
        "Budget cuts have set the consultants against the managers.",
        "Every saving plan lands on the wards without warning.",
        "The deficit means money decides what we talk about.",
        "Cost improvement targets poison the monthly directorate meeting.",
        "Finance staff never explain where the reserves went.",
        "Our overspend is blamed on clinicians who had no say.",
    ]

    def text(i: int, role: str) -> str:
        if i < len(views):  # the coded sample, two of them with the closer
            return f"{views[i]} {closer}" if i < 2 else views[i]
        # Not coded (yet): other subjects, a few with the closer.
        return f"Parking at the hospital is awful on day {i}." + (
            f" {closer}" if i % 8 == 0 else ""
        )

    role_wave(store, tmp_path, {"medical_director": 50, "clinical_director": 50}, texts=text)
    with store.session() as session:
        setup = ready_to_code(store, session, "r")
        wave, frame = setup.wave, setup.frame
        for source in setup.sources:
            if not source.content.startswith("Parking"):
                coding.add(session, source, setup.codes["external_finance"], setup.team)
        chosen = quotations.pick(store, session, wave, frame, "external_finance", count=6)
        stock = quotations._stock(session, wave, None)
    # Without the rule the closer, short and in a third of the coded comments (an eighth of
    # the others), is quoted.
    assert [q.text for q in chosen if q.text == closer] == []
    assert sorted(q.text for q in chosen) == sorted(views)
    assert stock == {closer.casefold()}  # 14 of the 100 commenters wrote it
