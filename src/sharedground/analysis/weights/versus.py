"""Each group against everyone else, weighted: the difference and its linearised variance.

The group and the rest are disjoint domains of one stratified design, so
``var(p_g - p_rest) = var(p_g) + var(p_rest) - 2 cov`` with
``cov = - sum_h n_h / (n_h - 1) * S_gh * S_rest,h / n_h`` (their influence values never
meet in one respondent; only the centring within strata links them): what R gives for
``svycontrast(svyby(~y, ~in_group, design, svymean, covmat = TRUE), c(1, -1))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from sharedground.analysis.weights.proportions import Proportions, proportions
from sharedground.analysis.weights.tabulate import Floats, WeightedCounts
from sharedground.analysis.weights.variance import scale_and_centre


@dataclass(frozen=True)
class Versus:
    """Per group (arrays over groups, points): each group's and the rest's figures."""

    group: Proportions
    rest: Proportions
    diff: Floats
    se: Floats
    ci_low: Floats
    ci_high: Floats
    p_value: Floats


def versus_rest(wc: WeightedCounts, row: int) -> Versus:
    """Every group of `row` (ungrouped respondents left out) against the other groups."""
    parts = {k: getattr(wc, k)[row, 1:] for k in ("n1", "n0", "w1", "w0", "q1", "q0")}
    rest = {k: v.sum(axis=0, keepdims=True) - v for k, v in parts.items()}

    def props(a: dict[str, Floats]) -> Proportions:
        return proportions(a["n1"], a["n0"], a["w1"], a["w0"], a["q1"], a["q0"], wc.stratum_sizes)

    mine, theirs = props(parts), props(rest)
    scale, centre = scale_and_centre(wc.stratum_sizes)
    with np.errstate(divide="ignore", invalid="ignore"):
        s_mine = (
            parts["w1"] - mine.estimate[:, None] * (parts["w1"] + parts["w0"])
        ) / mine.weighted_total[:, None]
        s_rest = (
            rest["w1"] - theirs.estimate[:, None] * (rest["w1"] + rest["w0"])
        ) / theirs.weighted_total[:, None]
        cov = -(scale * centre * s_mine * s_rest).sum(axis=1)
        var = mine.se**2 + theirs.se**2 - 2 * cov
        se = np.sqrt(np.maximum(var, 0.0))
        diff = mine.estimate - theirs.estimate
        z = sps.norm.ppf(0.975)
        p = np.where(se > 0, 2 * sps.norm.sf(np.abs(diff) / np.where(se > 0, se, 1.0)), np.nan)
    return Versus(
        mine, theirs, 100 * diff, 100 * se, 100 * (diff - z * se), 100 * (diff + z * se), p
    )
