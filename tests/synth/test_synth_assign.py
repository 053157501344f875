"""The exact-assignment tools: block cuts, pick-up-to-three fills, largest remainder."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sharedground.synth.assign import assign_blocks, fill_choices
from sharedground.synth.plan import apportion, rescale


def test_assign_blocks_cuts_the_ranking() -> None:
    score = np.array([0.1, 0.9, 0.5, 0.7, 0.3])
    assert assign_blocks(score, [2, 0, 3]).tolist() == [2, 0, 2, 0, 2]
    assert assign_blocks(score, [5]).tolist() == [0] * 5
    with pytest.raises(ValueError, match="add to 4"):
        assign_blocks(score, [2, 2])


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(1, 60),
    fractions=st.lists(st.floats(0, 1), min_size=1, max_size=8),
    seed=st.integers(0, 2**32 - 1),
)
def test_fill_choices_meets_every_count(n: int, fractions: list[float], seed: int) -> None:
    counts = [int(f * n) for f in fractions]
    while sum(counts) > 3 * n:  # keep the target feasible
        counts[int(np.argmax(counts))] -= 1
    rng = np.random.default_rng(seed)
    ticks = fill_choices(rng.standard_normal((n, len(counts))), counts, 3)
    assert ticks.sum(axis=0).tolist() == counts
    assert ticks.sum(axis=1).max() <= 3


def test_fill_choices_follows_preference_when_it_can() -> None:
    preference = np.zeros((10, 2))
    preference[:4, 0] = 5.0
    ticks = fill_choices(preference, [4, 3], 3)
    assert ticks[:4, 0].all() and ticks[:, 0].sum() == 4


def test_fill_choices_full_rows() -> None:
    ticks = fill_choices(np.random.default_rng(0).standard_normal((4, 4)), [4, 4, 2, 2], 3)
    assert ticks.sum(axis=1).tolist() == [3, 3, 3, 3]


def test_fill_choices_rejects_impossible_targets() -> None:
    with pytest.raises(ValueError, match="more than 3"):
        fill_choices(np.zeros((2, 4)), [2, 2, 2, 1], 3)
    with pytest.raises(ValueError, match="do not fit"):
        fill_choices(np.zeros((2, 1)), [3], 3)


def test_apportion_and_rescale() -> None:
    assert apportion([Fraction(5, 2), Fraction(5, 2)], 5) == (3, 2)
    # Published percentages adding to 101: the excess comes off the smallest remainder.
    assert sum(apportion([Fraction(p * 131, 100) for p in (12, 40, 13, 34, 0, 2)], 131)) == 131
    assert rescale([3, 5, 2], 10) == (3, 5, 2)
    assert rescale([1, 1, 1], 7) == (3, 2, 2)
    assert rescale([0, 0], 3) == (2, 1)
