"""Weighted cells and Rao-Scott tests for the rows of `analysis.tables`."""

from __future__ import annotations

import math

import numpy as np

from sharedground.analysis import significance
from sharedground.analysis.results import TestOutcome, Weighted
from sharedground.analysis.weights.proportions import Proportions, proportions
from sharedground.analysis.weights.raoscott import rao_scott
from sharedground.analysis.weights.tabulate import Floats, WeightedCounts


def row_proportions(wc: WeightedCounts) -> tuple[Proportions, Proportions]:
    """Every row x group (ungrouped first), and every row overall (ungrouped included)."""
    by_group = proportions(wc.n1, wc.n0, wc.w1, wc.w0, wc.q1, wc.q0, wc.stratum_sizes)
    overall = proportions(
        wc.n1.sum(axis=1),
        wc.n0.sum(axis=1),
        wc.w1.sum(axis=1),
        wc.w0.sum(axis=1),
        wc.q1.sum(axis=1),
        wc.q0.sum(axis=1),
        wc.stratum_sizes,
    )
    return by_group, overall


def weighted_figure(p: Proportions, index: tuple[int, ...]) -> Weighted:
    total = float(p.weighted_total[index])
    count = float(p.weighted_count[index])

    def interval(low: Floats, high: Floats) -> tuple[float, float] | None:
        lo, hi = float(low[index]), float(high[index])
        return None if math.isnan(lo) or math.isnan(hi) else (100.0 * lo, 100.0 * hi)

    se = float(p.se[index])
    return Weighted(
        pct=100.0 * count / total if total > 0 else None,
        se=None if math.isnan(se) else 100.0 * se,
        ci_logit=interval(p.logit_low, p.logit_high),
        ci_beta=interval(p.beta_low, p.beta_high),
        weighted_count=count,
        weighted_valid=total,
    )


def weighted_test(wc: WeightedCounts, row: int, shown: np.ndarray, method: str) -> TestOutcome:
    """Rao-Scott across the groups shown (index 0 of `shown` is the first real group)."""
    keep = np.flatnonzero(shown) + 1
    n = np.stack([wc.n1[row, keep], wc.n0[row, keep]], axis=-1)
    w = np.stack([wc.w1[row, keep], wc.w0[row, keep]], axis=-1)
    q = np.stack([wc.q1[row, keep], wc.q0[row, keep]], axis=-1)
    groups = int((n.sum(axis=(1, 2)) > 0).sum())
    result = rao_scott(n, w, q, wc.stratum_sizes, method)
    if result is None or math.isnan(result.p_value):
        reason = (
            "fewer than two groups or everyone gave the same answer, so nothing to compare"
            if result is None
            else "no degrees of freedom left for the design-based test"
        )
        return TestOutcome("none", None, None, None, None, groups, reason)
    df = int(result.ndf) if method == "Chisq" else None
    return TestOutcome(
        name=f"rao-scott-{method}",
        statistic=result.statistic,
        df=df,
        p_value=result.p_value,
        stars=significance.stars(result.p_value),
        groups=groups,
        reason=None,
        ndf=result.ndf,
        ddf=result.ddf,
    )
