"""Small-cell suppression: a reader who subtracts what is shown must learn nothing small.

The attack used throughout: for one row, the withheld groups together hold "overall minus
the groups shown". If that is a single group, its figure is recovered exactly; if several
groups together hold fewer than the threshold, a small cell is still narrowed down.
"""

from __future__ import annotations

import numpy as np
from analysis_helpers import attack
from hypothesis import given, settings
from hypothesis import strategies as st

from sharedground.analysis.suppression import suppress


def published(valid: list[int], extra: int, threshold: int) -> tuple[list[int | None], int | None]:
    withheld, overall_withheld = suppress(np.array(valid), sum(valid) + extra, threshold)
    shown = [None if w else v for v, w in zip(valid, withheld, strict=True)]
    return shown, None if overall_withheld else sum(valid) + extra


def test_a_single_small_group_takes_the_next_smallest_with_it() -> None:
    shown, overall = published([3, 40, 20, 50], 0, 5)
    assert shown == [None, 40, None, 50] and overall == 113
    assert attack(shown, overall, 5) is None


def test_two_small_groups_that_are_small_together_take_a_third() -> None:
    shown, overall = published([1, 2, 30, 50], 0, 5)
    assert shown == [None, None, None, 50]
    assert attack(shown, overall, 5) is None


def test_nothing_is_withheld_when_every_group_is_large_enough() -> None:
    assert published([5, 6, 7], 0, 5) == ([5, 6, 7], 18)


def test_a_small_total_is_withheld_with_everything() -> None:
    shown, overall = published([1, 2], 0, 5)
    assert shown == [None, None] and overall is None


def test_a_single_group_cannot_hide_behind_the_total() -> None:
    # One group and the overall figure: the group *is* the total (bar the ungrouped).
    shown, overall = published([3], 4, 5)
    assert shown == [None] and overall is None


def test_withheld_groups_that_answered_alike_take_one_that_did_not() -> None:
    # Groups of 5 and 4 (withheld with it) where none chose the option: the national
    # count less the groups shown was 0, so both were known to be 0 of 5 and 0 of 4.
    valid, counted = np.array([5, 24, 23, 22, 4]), np.array([0, 5, 3, 0, 0])
    withheld, overall = suppress(valid, int(valid.sum()), 5, counted)
    assert withheld.tolist() == [True, False, True, False, True] and not overall
    assert 0 < counted[withheld].sum() < valid[withheld].sum()
    # All of them chose it: those not choosing it are what must be found elsewhere.
    withheld, _ = suppress(valid, int(valid.sum()), 5, np.array([5, 24, 20, 22, 4]))
    assert withheld.tolist() == [True, False, True, False, True]
    # Nobody shown chose it either: the overall 0 says it of everyone, nothing to add.
    withheld, _ = suppress(valid, int(valid.sum()), 5, np.zeros(5, dtype=np.int64))
    assert withheld.tolist() == [True, False, False, False, True]
    # Without counts (a table of sizes), the rule is the valid answers' alone.
    assert suppress(valid, int(valid.sum()), 5)[0].tolist() == [True, False, False, False, True]


@settings(max_examples=400, deadline=None)
@given(
    st.lists(st.integers(min_value=0, max_value=40), min_size=1, max_size=12),
    st.integers(min_value=0, max_value=3),
    st.integers(min_value=1, max_value=10),
)
def test_subtraction_never_recovers_a_withheld_cell(
    valid: list[int], extra: int, threshold: int
) -> None:
    shown, overall = published(valid, extra, threshold)
    assert attack(shown, overall, threshold) is None
    # Every cell that is shown is large enough, and every small one is withheld.
    for value, cell in zip(valid, shown, strict=True):
        assert cell is None or cell >= threshold
        assert value >= threshold or cell is None
    if overall is not None:
        assert overall >= threshold
