"""adjust, two_proportions and funnel_limits against independent references.

* ``adjust``: the textbook definitions written out directly (min over ranks for
  Benjamini–Hochberg, max over ranks for Holm), not the cumulative-min/max shortcut.
* ``two_proportions``: the published worked examples of Newcombe (1998), Table II, method
  10 (hybrid score interval without continuity correction), to the 4 decimals printed.
* ``funnel_limits``: binomial probabilities summed here in exact rational arithmetic, and
  the normal limits from ``statistics.NormalDist``.
"""

from __future__ import annotations

import math
from fractions import Fraction
from statistics import NormalDist

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sharedground.analysis.stats import adjust, compare_groups, funnel_limits, two_proportions

# -- adjust ------------------------------------------------------------------------------


def bh_by_definition(p: list[float]) -> list[float]:
    """q_i = min over j with p_j >= p_i of m * p_j / rank_j, capped at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    rank = {i: k + 1 for k, i in enumerate(order)}
    return [
        min(1.0, min(m * p[j] / rank[j] for j in range(m) if rank[j] >= rank[i])) for i in range(m)
    ]


def holm_by_definition(p: list[float]) -> list[float]:
    """q_i = max over j with rank_j <= rank_i of (m - rank_j + 1) * p_j, capped at 1."""
    m = len(p)
    order = sorted(range(m), key=lambda i: p[i])
    rank = {i: k + 1 for k, i in enumerate(order)}
    return [
        min(1.0, max((m - rank[j] + 1) * p[j] for j in range(m) if rank[j] <= rank[i]))
        for i in range(m)
    ]


def test_adjust_small_worked_example() -> None:
    p = [0.01, 0.02, 0.03, 0.04, 0.05]
    assert adjust(p, "bh") == pytest.approx([0.05] * 5)
    assert adjust(p, "holm") == pytest.approx([0.05, 0.08, 0.09, 0.09, 0.09])


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.one_of(st.none(), st.floats(0.0, 1.0, allow_nan=False)),
        min_size=0,
        max_size=12,
    )
)
def test_adjust_matches_definitions_and_keeps_none(p: list[float | None]) -> None:
    present = [v for v in p if v is not None]
    for method, reference in (("bh", bh_by_definition), ("holm", holm_by_definition)):
        got = adjust(p, method)
        assert [v is None for v in got] == [v is None for v in p]
        expected = iter(reference(present))
        for value in got:
            if value is not None:
                assert value == pytest.approx(next(expected), rel=1e-12, abs=1e-300)


def test_adjust_method_names_and_errors() -> None:
    assert adjust([0.01, 0.04], "BH") == adjust([0.01, 0.04], "fdr")
    assert adjust([0.01, 0.04], "Holm") == adjust([0.01, 0.04], "holm")
    assert adjust([None, None], "bh") == [None, None]
    with pytest.raises(ValueError, match="unknown adjustment"):
        adjust([0.1], "bonferroni")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust([0.1, 1.5], "bh")
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        adjust([float("nan")], "holm")


# -- two_proportions -------------------------------------------------------------------------

# Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10: the interval
# for the difference p1 - p2 (as proportions), printed to 4 decimals.
NEWCOMBE_METHOD_10 = [
    ((56, 70, 48, 80), 0.0524, 0.3339),
    ((9, 10, 3, 10), 0.1705, 0.8090),
    ((5, 56, 0, 29), -0.0381, 0.1926),
    ((0, 10, 0, 20), -0.1611, 0.2775),
    ((0, 10, 0, 10), -0.2775, 0.2775),
    ((10, 10, 0, 20), 0.6791, 1.0000),
    ((10, 10, 0, 10), 0.6075, 1.0000),
]


@pytest.mark.parametrize(("counts", "low", "high"), NEWCOMBE_METHOD_10)
def test_newcombe_published_intervals(
    counts: tuple[int, int, int, int], low: float, high: float
) -> None:
    result = two_proportions(*counts)
    x1, n1, x2, n2 = counts
    assert result.difference == pytest.approx(100 * (x1 / n1 - x2 / n2), rel=1e-12)
    assert result.ci_low is not None and result.ci_high is not None
    assert abs(result.ci_low / 100 - low) <= 0.00005
    assert abs(result.ci_high / 100 - high) <= 0.00005


def test_two_proportions_p_value_is_compare_groups_on_the_2x2() -> None:
    result = two_proportions(56, 70, 48, 80)
    table = compare_groups([[56, 14], [48, 32]])
    assert (result.p_value, result.test) == (table.p_value, table.test)
    small = two_proportions(9, 10, 3, 10)
    assert small.test == "fisher"


def test_two_proportions_identical_answers_have_no_p_value() -> None:
    result = two_proportions(0, 10, 0, 20)
    assert result.p_value is None and result.test is None
    assert result.difference == 0.0
    assert "same option" in result.reason


@pytest.mark.parametrize("counts", [(0, 0, 3, 10), (3, 10, 0, 0), (0, 0, 0, 0)])
def test_two_proportions_with_an_empty_group(counts: tuple[int, int, int, int]) -> None:
    result = two_proportions(*counts)
    assert (result.difference, result.ci_low, result.ci_high, result.p_value, result.test) == (
        None,
        None,
        None,
        None,
        None,
    )
    assert "nobody" in result.reason


@pytest.mark.parametrize("counts", [(11, 10, 3, 10), (-1, 10, 3, 10), (1.5, 10, 3, 10)])
def test_two_proportions_rejects_impossible_counts(counts: tuple[int, int, int, int]) -> None:
    with pytest.raises(ValueError):
        two_proportions(*counts)


# -- funnel_limits ----------------------------------------------------------------------------


def exact_interpolated_limit(prob: float, n: int, p0: Fraction) -> float:
    """Spiegelhalter's interpolated binomial quantile, from exact binomial sums."""
    target = Fraction(prob)
    cdf = Fraction(0)
    previous = Fraction(0)
    for r in range(n + 1):
        previous = cdf
        cdf += math.comb(n, r) * p0**r * (1 - p0) ** (n - r)
        if cdf >= target:
            alpha = (cdf - target) / (cdf - previous)
            return float((r - alpha) / n)
    raise AssertionError("unreachable")


@pytest.mark.parametrize("p0", [0.05, 0.3, 0.5, 0.87])
def test_exact_funnel_limits_match_exact_binomial_sums(p0: float) -> None:
    ns = [1, 2, 5, 13, 40, 97, 250]
    limits = funnel_limits(p0, np.array(ns))
    assert set(limits) == {0.95, 0.998}
    for level, (lower, upper) in limits.items():
        tail = (1 - level) / 2
        for k, n in enumerate(ns):
            lo = min(1.0, max(0.0, exact_interpolated_limit(tail, n, Fraction(p0))))
            hi = min(1.0, max(0.0, exact_interpolated_limit(1 - tail, n, Fraction(p0))))
            assert lower[k] == pytest.approx(lo, rel=1e-9, abs=1e-12)
            assert upper[k] == pytest.approx(hi, rel=1e-9, abs=1e-12)


def test_funnel_limits_narrow_with_n_and_bracket_the_target() -> None:
    ns = np.array([20, 50, 100, 500, 2000, 10000])
    lower, upper = funnel_limits(0.4, ns)[0.998]
    assert np.all(lower <= 0.4) and np.all(upper >= 0.4)
    assert np.all(np.diff(upper - lower) < 0)
    inner_lower, inner_upper = funnel_limits(0.4, ns)[0.95]
    assert np.all(inner_lower >= lower) and np.all(inner_upper <= upper)


def test_normal_funnel_limits() -> None:
    ns = np.array([10, 100, 1000])
    lower, upper = funnel_limits(0.2, ns, levels=(0.95,), method="normal")[0.95]
    z = NormalDist().inv_cdf(0.975)
    half = z * np.sqrt(0.2 * 0.8 / ns)
    assert lower == pytest.approx(np.clip(0.2 - half, 0, 1), rel=1e-12)
    assert upper == pytest.approx(0.2 + half, rel=1e-12)


def test_funnel_limits_shapes_and_edge_cases() -> None:
    scalar = funnel_limits(0.3, 50)
    assert scalar[0.95].lower.shape == ()
    with_zero = funnel_limits(0.3, [0, 10])[0.95]
    assert math.isnan(with_zero.lower[0]) and math.isnan(with_zero.upper[0])
    assert not math.isnan(with_zero.lower[1])
    edge = funnel_limits(0.0, [10])[0.95]
    assert edge.lower[0] == 0.0 and 0.0 <= edge.upper[0] <= 1.0
    for bad in (dict(p0=1.2, n=[10]), dict(p0=0.2, n=[-1]), dict(p0=0.2, n=[2.5])):
        with pytest.raises(ValueError):
            funnel_limits(**bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        funnel_limits(0.2, [10], levels=(1.0,))
    with pytest.raises(ValueError):
        funnel_limits(0.2, [10], method="poisson")  # type: ignore[arg-type]
