"""Per group, stratum and answer: respondents, sum of weights, sum of squared weights.

One `numpy.bincount` per quantity over a combined key, so a million respondents cost three
passes, whatever the number of groups and strata.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def group_sums(
    weights: Floats,
    strata: Ints,
    group: Ints,
    answer: Ints,
    shape: tuple[int, int, int],
) -> tuple[Floats, Floats, Floats]:
    """(n, sum w, sum w^2), each groups x strata x answers.

    `group` and `answer` below zero mark respondents outside the domain (no group, no valid
    answer): they are left out of every cell but still count in their stratum's size, which
    the caller takes from the whole sample.
    """
    groups, n_strata, answers = shape
    inside = (group >= 0) & (answer >= 0)
    key = ((group * n_strata + strata) * answers + answer)[inside]
    w = weights[inside]
    size = groups * n_strata * answers
    n = np.bincount(key, minlength=size).astype(np.float64)
    sw: Floats = np.bincount(key, weights=w, minlength=size).astype(np.float64)
    sw2: Floats = np.bincount(key, weights=w * w, minlength=size).astype(np.float64)
    return n.reshape(shape), sw.reshape(shape), sw2.reshape(shape)


def stratum_sizes(strata: Ints, n_strata: int) -> Floats:
    """Respondents per stratum in the whole sample."""
    return np.bincount(strata, minlength=n_strata).astype(np.float64)
