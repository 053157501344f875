"""Counts per row and group, from the store, against counts made one respondent at a time."""

from __future__ import annotations

import polars as pl
import pytest
from analysis_helpers import HandMade, tally, where

from sharedground.analysis.counting import count
from sharedground.analysis.encoding import encode
from sharedground.analysis.grouping import GroupingError, grouping, groupings
from sharedground.analysis.rows import all_rows
from sharedground.analysis.source import load_wave
from sharedground.instrument import builtin
from sharedground.store import Store


@pytest.mark.parametrize("by", ["role", "trust", "mode", "country"])
def test_every_row_and_group_matches_a_plain_count(store: Store, loaded: HandMade, by: str) -> None:
    data = load_wave(store, "w")
    specs = all_rows(data.instrument)
    split = grouping(data.instrument, by, data.frame)
    counts = count(data.frame, specs, split.expr, split.keys)
    rows = loaded.rows
    assert counts.overall_respondents == len(rows)
    for i, spec in enumerate(specs):
        overall = tally(rows, loaded.instrument, spec.item, spec.option, spec.measure)
        assert (counts.overall_counted[i], counts.overall_valid[i]) == overall, spec.key
        for j, group in enumerate(split.ids):
            expected = tally(
                rows,
                loaded.instrument,
                spec.item,
                spec.option,
                spec.measure,
                keep=where(by, group),
            )
            assert (counts.counted[i, j], counts.valid[i, j]) == expected, (spec.key, group)


def test_blank_group_values_count_overall_only(store: Store, loaded: HandMade) -> None:
    data = load_wave(store, "w")
    split = grouping(data.instrument, "country", data.frame)
    counts = count(data.frame, all_rows(data.instrument), split.expr, split.keys)
    blank = sum(1 for r in loaded.rows if r["country"] == "")
    assert blank > 0  # the fixture skips some answers; otherwise this test proves nothing
    assert counts.ungrouped == blank
    assert counts.respondents.sum() + blank == len(loaded.rows)


def test_multi_choice_with_many_options_is_renumbered_before_counting() -> None:
    # Masks above the direct-count limit take the renumbering path; results must agree.
    instrument = builtin("dmr-2015")
    frame = pl.DataFrame(
        {
            "role": ["chief_executive", "medical_director", "chief_executive", "medical_director"],
            "barriers": ["time_doctors;other", "other", "none", None],
        }
    )
    coded = encode(frame, instrument)
    shifted = coded.with_columns(
        (pl.col("barriers") * (1 << 40) + pl.col("barriers")).alias("barriers")
    )
    specs = [s for s in all_rows(instrument) if s.item == "barriers"]
    split = grouping(instrument, "role", coded)
    plain = count(coded, specs, split.expr, split.keys)
    # Same bits set in the low byte, so each row's count is the same on both frames.
    big = count(shifted, specs, split.expr, split.keys)
    assert (plain.counted == big.counted).all() and (plain.valid == big.valid).all()
    assert plain.valid[:, 0].tolist() == [2] * len(specs)  # ticking "none" is an answer
    assert plain.valid[:, 1].tolist() == [1] * len(specs)  # skipping is not


def test_unknown_grouping_lists_the_allowed_ones() -> None:
    instrument = builtin("dmr-2015")
    frame = encode(pl.DataFrame({"role": ["chief_executive"]}), instrument)
    with pytest.raises(GroupingError, match="allows role, trust, mode, country"):
        grouping(instrument, "shoe_size", frame)
    assert "gender" in groupings(instrument)
