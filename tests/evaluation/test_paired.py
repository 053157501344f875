"""Paired tests checked against independent values: statsmodels' exact McNemar, SciPy's exact
tests inverted point by point for the intervals, and exact enumeration of the coverage of
Newcombe's interval."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy.stats import binomtest, multinomial, wilcoxon
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from sharedground.evaluation.paired import (
    mcnemar,
    newcombe_paired_ci,
    sign_test,
    signed_rank,
    walsh_averages,
)


def _table(a: int, b: int, c: int, d: int) -> tuple[list[int], list[int]]:
    before = [1] * a + [1] * b + [0] * c + [0] * d
    after = [1] * a + [0] * b + [1] * c + [0] * d
    return before, after


@pytest.mark.parametrize("a,b,c,d", [(10, 5, 12, 8), (0, 0, 3, 2), (30, 1, 9, 4), (5, 7, 7, 1)])
def test_mcnemar_against_statsmodels(a: int, b: int, c: int, d: int) -> None:
    before, after = _table(a, b, c, d)
    got = mcnemar(before, after)
    expected = sm_mcnemar([[a, b], [c, d]], exact=True).pvalue
    assert got.p_value == pytest.approx(expected, rel=1e-12)
    assert got.estimate == pytest.approx((c - b) / (a + b + c + d))
    assert got.n_pairs == a + b + c + d and got.n_lost == 0
    assert got.ci_low is not None and got.ci_high is not None
    assert got.ci_low <= got.estimate <= got.ci_high


def test_mcnemar_counts_lost_to_follow_up_and_refuses_too_few() -> None:
    got = mcnemar([1, 0, 1, 1, 0, 0, 1], [1, 1, None, None, 0, 1, float("nan")])
    assert (got.n_pairs, got.n_lost) == (4, 3)
    assert got.p_value is None and got.ci_low is None
    assert got.note.startswith("not enough to judge")
    with pytest.raises(ValueError, match="coded 0 and 1"):
        mcnemar([2, 0, 1, 1, 0], [1, 1, 0, 0, 1])


def test_newcombe_interval_coverage_by_exact_enumeration() -> None:
    """Exact coverage over every table of 40 pairs, for 30 random sets of true cell
    probabilities: close to 95% on average (Newcombe's and Fagerland et al.'s evaluations
    found the same), never far below."""
    n = 40
    tables = [
        (a, b, c, n - a - b - c)
        for a in range(n + 1)
        for b in range(n + 1 - a)
        for c in range(n + 1 - a - b)
    ]
    limits = np.array([newcombe_paired_ci(*t) for t in tables])
    counts = np.array(tables)
    rng = np.random.default_rng(1)
    coverages = []
    for _ in range(30):
        probs4 = rng.dirichlet([1, 1, 1, 1])
        probs = multinomial.pmf(counts, n, probs4)
        truth = probs4[2] - probs4[1]
        covered = (limits[:, 0] <= truth) & (truth <= limits[:, 1])
        coverages.append(float(probs[covered].sum()))
    mean = float(np.mean(coverages))
    print(f"Newcombe paired interval, exact coverage: mean {mean:.4f}, min {min(coverages):.4f}")
    assert 0.935 <= mean <= 0.965
    assert min(coverages) >= 0.92


def test_signed_rank_exact_interval_inverts_the_exact_test() -> None:
    """The interval is every shift mu the exact two-sided test (SciPy) does not reject at 5%:
    checked at the midpoint between each pair of neighbouring Walsh averages."""
    # R's ?wilcox.test example (Hollander & Wolfe, depression scale before and after)
    x = [1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30]
    y = [0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29]
    got = signed_rank(y, x)  # change = x - y
    d = np.array(x) - np.array(y)
    assert got.p_value == pytest.approx(wilcoxon(d, method="exact").pvalue, rel=1e-12)
    # R's example, wilcox.test(x, y, paired = TRUE, alternative = "greater"), prints V = 40,
    # p-value = 0.01953; the two-sided p-value is twice that
    assert got.p_value == pytest.approx(2 * 0.01953125)
    walsh = walsh_averages(d)
    assert got.estimate == pytest.approx(np.median(walsh))
    for lo, hi in itertools.pairwise(walsh):
        mu = (lo + hi) / 2
        if lo == hi:
            continue
        keeps = wilcoxon(d - mu, method="exact").pvalue > 0.05
        assert keeps == (got.ci_low <= mu <= got.ci_high), mu


def test_signed_rank_with_ties_uses_the_normal_approximation() -> None:
    rng = np.random.default_rng(3)
    before = rng.integers(1, 6, 80)
    after = np.clip(before + rng.integers(-1, 3, 80), 1, 5)
    got = signed_rank(before, after)
    d = after - before
    nz = d[d != 0]
    assert got.p_value == pytest.approx(wilcoxon(nz, method="approx").pvalue, rel=1e-12)
    assert "normal approximation" in got.note
    # the Walsh-average interval from the normal approximation of the rank
    n = d.size
    k = math.floor(n * (n + 1) / 4 - 1.959963984540054 * math.sqrt(n * (n + 1) * (2 * n + 1) / 24))
    walsh = walsh_averages(d.astype(float))
    assert (got.ci_low, got.ci_high) == (walsh[k - 1], walsh[walsh.size - k])


def test_sign_test_interval_inverts_the_binomial_test() -> None:
    rng = np.random.default_rng(8)
    for n in (6, 11, 25, 40):
        before = rng.normal(size=n)
        after = before + rng.normal(0.4, 1, size=n)
        got = sign_test(before, after)
        d = np.sort(after - before)
        up = int(np.sum(d > 0))
        assert got.p_value == pytest.approx(binomtest(up, n, 0.5).pvalue, rel=1e-12)
        assert got.estimate == pytest.approx(np.median(d))
        for lo, hi in itertools.pairwise(d):
            mu = (lo + hi) / 2
            keeps = binomtest(int(np.sum(d > mu)), n, 0.5).pvalue > 0.05
            assert keeps == (got.ci_low <= mu <= got.ci_high), (n, mu)


def test_counts_under_the_threshold_are_not_printed() -> None:
    few = mcnemar(*_table(10, 2, 12, 8))  # 2 changed away: fewer than 5
    assert "12 changed to agree, fewer than 5 away" in few.note
    assert few.statistic is None and few.p_value is not None
    many = mcnemar(*_table(10, 6, 12, 8))
    assert "12 changed to agree, 6 away" in many.note and many.statistic == 6.0
    rng = np.random.default_rng(2)
    before = rng.normal(size=30)
    signs = sign_test(before, before + np.r_[np.ones(27), -np.ones(3)])
    assert "27 up, fewer than 5 down, fewer than 5 unchanged" in signs.note
    assert signs.statistic is None
