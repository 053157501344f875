"""Agreement statistics against published worked examples, and from stored codings.

Sources of the expected values:

* Krippendorff, K. (2011) "Computing Krippendorff's Alpha-Reliability", Annenberg School
  for Communication, University of Pennsylvania: section A (two observers, binary data, no
  missing values; alpha = 0.095) and section C (four observers, nominal values 1-5, missing
  values; alpha = 0.743).
* Cohen's kappa, the worked example of 50 grant applications read by two readers (yes/yes
  20, yes/no 5, no/yes 10, no/no 15): p_o = 0.7, p_e = 0.5, kappa = 0.4 (the example used in
  Wikipedia's "Cohen's kappa" article; the arithmetic is repeated here).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from sharedground.store import Store
from sharedground.text import agreement, coding, frames, sources

NA = math.nan

# Krippendorff (2011), section C: observers A-D, units 1-12.
NOMINAL = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, NA, NA, NA],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NA, 3],
    [NA, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NA],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NA],
]
# Krippendorff (2011), section A: Ben and Gerry, ten units.
BEN = [0, 1, 0, 0, 0, 0, 0, 0, 1, 0]
GERRY = [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]


def test_alpha_published_nominal_example_with_missing_values() -> None:
    assert round(agreement.krippendorff_alpha(NOMINAL), 3) == 0.743


def test_alpha_published_binary_example() -> None:
    # 1 - (n - 1) o01 / (n0 n1) = 1 - 19 * 4 / (14 * 6)
    expected = 1 - 19 * 4 / (14 * 6)
    assert agreement.krippendorff_alpha([BEN, GERRY]) == pytest.approx(expected)
    assert round(expected, 3) == 0.095
    assert agreement.binary_alpha(np.array([BEN, GERRY], dtype=float)) == pytest.approx(expected)


def test_kappa_worked_example() -> None:
    first = [1] * 25 + [0] * 25
    second = [1] * 20 + [0] * 5 + [1] * 10 + [0] * 15
    assert agreement.cohen_kappa(first, second) == pytest.approx(0.4)
    a, b = np.array(first, dtype=float), np.array(second, dtype=float)
    assert agreement.binary_kappa(a, b) == pytest.approx(0.4)
    assert agreement.percent_agreement([first, second]) == pytest.approx(0.7)


def test_undefined_when_nothing_varies() -> None:
    assert math.isnan(agreement.krippendorff_alpha([[1, 1, 1], [1, 1, 1]]))
    assert math.isnan(agreement.cohen_kappa([0, 0], [0, 0]))
    assert math.isnan(agreement.krippendorff_alpha([[1, NA], [NA, 1]]))


def test_fast_binary_paths_equal_the_packages() -> None:
    rng = np.random.default_rng(5)
    for _ in range(30):
        table = rng.integers(0, 2, size=(3, 40)).astype(float)
        table[rng.random(table.shape) < 0.2] = NA
        assert agreement.binary_alpha(table) == pytest.approx(agreement.krippendorff_alpha(table))
        assert agreement.binary_kappa(table[0], table[1]) == pytest.approx(
            agreement.cohen_kappa(table[0], table[1])
        )


def _ten_sources(store: Store, tmp_path: Path) -> list[int]:
    paths = []
    for i in range(10):
        path = tmp_path / f"t{i}.txt"
        path.write_text(f"Paragraph number {i} of twenty chars.", encoding="utf-8")
        paths.append(path)
    with store.session() as session:
        added = sources.add_documents(store, session, paths, {"role": "medical_director"})
        frames.save(session, frames.builtin("dmr-themes"))
        return [source.id for source in added]


def test_compare_from_stored_codings(store: Store, tmp_path: Path) -> None:
    ids = _ten_sources(store, tmp_path)
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        codes = coding.codes_of(session, frame)
        for name, decisions in (("ben", BEN), ("gerry", GERRY)):
            coder = coding.get_coder(session, name)
            for ident, coded in zip(ids, decisions, strict=True):
                source = sources.get_source(session, ident)
                # Every coder puts another code on every source, so each read all ten.
                coding.add(session, source, codes["public_esteem"], coder)
                if coded:
                    coding.add(session, source, codes["variation"], coder)
        result = agreement.compare(session, frame, ["ben", "gerry"], replicates=200)
    by_code = {s.code: s for s in result.codes}
    variation = by_code["variation"]
    assert variation.units == 10
    assert variation.alpha == pytest.approx(1 - 19 * 4 / (14 * 6))
    # p_o = 6/10; p_e = 0.2 * 0.4 + 0.8 * 0.6 = 0.56
    assert variation.kappa == pytest.approx((0.6 - 0.56) / (1 - 0.56))
    assert variation.percent == pytest.approx(0.6)
    assert by_code["public_esteem"].percent == 1.0
    assert math.isnan(by_code["public_esteem"].kappa)  # everyone coded it everywhere
    low, high = variation.alpha_ci
    assert low <= variation.alpha <= high
    assert [(d.source_id, d.code) for d in result.disagreements] == [
        (ids[i], "variation") for i in (0, 2, 5, 8)
    ]
    assert result.disagreements[0].decisions == {"ben": False, "gerry": True}
    # Overall: 13 codes x 10 units pooled; only the 4 variation units disagree.
    assert result.overall.units == 130
    assert result.overall.percent == pytest.approx(126 / 130)
    with store.session() as session:
        again = agreement.compare(
            session, frames.get(session, "dmr-themes"), ["ben", "gerry"], replicates=200
        )
    assert {s.code: s.alpha_ci for s in again.codes} == {s.code: s.alpha_ci for s in result.codes}


def test_characters_and_missing_units(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "one.txt"
    path.write_text("abcdefghijklmnopqrst", encoding="utf-8")  # 20 characters
    other = tmp_path / "two.txt"
    other.write_text("only ann read this one", encoding="utf-8")
    with store.session() as session:
        first, second = sources.add_documents(store, session, [path, other], {})
        frame = frames.save(session, frames.builtin("dmr-themes"))
        codes = coding.codes_of(session, frame)
        ann, bob = coding.get_coder(session, "ann"), coding.get_coder(session, "bob")
        coding.add(session, first, codes["variation"], ann, start=0, end=10)
        coding.add(session, first, codes["variation"], bob, start=5, end=15)
        coding.add(session, second, codes["variation"], ann)
        result = agreement.compare(session, frame, ["ann", "bob"], replicates=0)
    variation = {s.code: s for s in result.codes}["variation"]
    # Units: bob made no coding on the second source, so it is missing for him.
    assert variation.units == 1 and variation.percent == 1.0
    # Characters of the first source: 5 both, 5 ann only, 5 bob only, 5 neither.
    assert variation.chars == 20
    assert variation.chars_percent == pytest.approx(0.5)
    assert variation.chars_kappa == pytest.approx(0.0)
    assert variation.chars_alpha == pytest.approx(1 - 39 * 10 / (20 * 20))


def test_themes_count_their_sub_codes_and_a_sample_with_uncoded_sources(
    store: Store, tmp_path: Path
) -> None:
    ids = _ten_sources(store, tmp_path)
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        codes = coding.codes_of(session, frame)
        ann, bob = coding.get_coder(session, "ann"), coding.get_coder(session, "bob")
        first = sources.get_source(session, ids[0])
        coding.add(session, first, codes["external_finance"], ann)
        coding.add(session, first, codes["external_regulation"], bob)
        result = agreement.compare(
            session, frame, ["ann", "bob"], source_ids=ids, all_coded=True, replicates=0
        )
    by_code = {s.code: s for s in result.codes}
    # Ten sources read by both; only the first coded at all.
    assert by_code["external_context"].units == 10
    assert by_code["external_context"].percent == 1.0  # both put the theme on the first
    assert by_code["external_finance"].percent == pytest.approx(0.9)
    assert [(d.source_id, d.code) for d in result.disagreements] == [
        (ids[0], "external_finance"),
        (ids[0], "external_regulation"),
    ]


def test_a_transcripts_units_are_its_paragraphs(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "focus.txt"
    text = "First speaker on money.\n\nSecond speaker on inspections.\n\nThird on the weather."
    path.write_text(text, encoding="utf-8")
    second = text.index("Second")
    with store.session() as session:
        (source,) = sources.add_documents(store, session, [path], {})
        frame = frames.save(session, frames.builtin("dmr-themes"))
        codes = coding.codes_of(session, frame)
        ann, bob = coding.get_coder(session, "ann"), coding.get_coder(session, "bob")
        # ann codes a few words inside paragraph 2; bob the whole of paragraphs 1 and 2.
        coding.add(session, source, codes["external_regulation"], ann, start=second, end=second + 6)
        coding.add(session, source, codes["external_regulation"], bob, start=0, end=second + 30)
        result = agreement.compare(session, frame, ["ann", "bob"], replicates=0)
    regulation = {s.code: s for s in result.codes}["external_regulation"]
    assert regulation.units == 3  # three paragraphs, both coders read the transcript
    assert regulation.percent == pytest.approx(2 / 3)  # they differ on paragraph 1 only
    assert [(d.start, d.end) for d in result.disagreements if d.code == "external_regulation"] == [
        (0, len("First speaker on money."))
    ]


def test_a_themes_disagreement_from_a_sub_code_is_listed_once(store: Store, tmp_path: Path) -> None:
    ids = _ten_sources(store, tmp_path)
    with store.session() as session:
        frame = frames.get(session, "dmr-themes")
        codes = coding.codes_of(session, frame)
        ann = coding.get_coder(session, "ann")
        coding.get_coder(session, "bob")
        first, second, third = (sources.get_source(session, i) for i in ids[:3])
        # Only a sub-code: settling it settles the theme, so only it is listed.
        coding.add(session, first, codes["external_finance"], ann)
        # The theme itself: listed.
        coding.add(session, second, codes["external_context"], ann)
        # Both: dropping the sub-code alone would leave the theme, so both are listed.
        coding.add(session, third, codes["external_context"], ann)
        coding.add(session, third, codes["external_finance"], ann)
        bob = coding.get_coder(session, "bob")
        coding.add(session, sources.get_source(session, ids[9]), codes["public_esteem"], bob)
        result = agreement.compare(
            session, frame, ["ann", "bob"], source_ids=ids, all_coded=True, replicates=0
        )
    assert [(d.source_id, d.code) for d in result.disagreements] == [
        (ids[0], "external_finance"),
        (ids[1], "external_context"),
        (ids[2], "external_context"),
        (ids[2], "external_finance"),
        (ids[9], "public_esteem"),
    ]
    # The statistics still count the theme wherever a sub-code is.
    context = {s.code: s for s in result.codes}["external_context"]
    assert context.percent == pytest.approx(0.7)


def test_resolving_reports_what_changed_drops_sub_codes_and_settles_a_span(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "focus.txt"
    text = "First speaker on money.\n\nSecond speaker on budgets.\n\nThird on the weather."
    path.write_text(text, encoding="utf-8")
    second = text.index("Second")
    with store.session() as session:
        (transcript,) = sources.add_documents(store, session, [path], {})
        comment = sources.add_documents(store, session, [_note(tmp_path)], {})[0]
        frame = frames.save(session, frames.builtin("dmr-themes"))
        codes = coding.codes_of(session, frame)
        ann = coding.get_coder(session, "ann")
        coding.add(session, comment, codes["external_finance"], ann, memo="money")
        # One coding over the first two paragraphs.
        coding.add(session, transcript, codes["external_finance"], ann, start=0, end=second + 26)
        assert coding.adopt(session, frame, "ann") == 2
        # Dropping the theme drops its sub-code, which is what made the theme.
        done = coding.resolve(session, frame, comment, "external_context", keep=False)
        assert done == coding.Resolved(added=False, dropped={"external_finance": 1})
        again = coding.resolve(session, frame, comment, "external_context", keep=False)
        assert again == coding.Resolved(added=False, dropped={})
        kept = coding.resolve(session, frame, comment, "public_esteem", keep=True)
        assert kept.added
        assert not coding.resolve(session, frame, comment, "public_esteem", keep=True).added
        # Dropping finance from the first paragraph only cuts the coding back to the second.
        dropped = coding.resolve(
            session,
            frame,
            transcript,
            "external_finance",
            keep=False,
            start=0,
            end=len("First speaker on money."),
        )
        assert dropped.dropped == {"external_finance": 1}
        team = coding.rows(session, frame, coders=["team"])
    assert [(r.source_id, r.code, r.start, r.end) for r in team] == [
        (transcript.id, "external_finance", second - 2, second + 26),
        (comment.id, "public_esteem", None, None),
    ]


def _note(tmp_path: Path) -> Path:
    path = tmp_path / "note.txt"
    path.write_text("Budgets rule every meeting.", encoding="utf-8")
    return path
