"""The exact Fisher–Freeman–Halton p-value against brute-force enumeration.

Reference values are computed here, independently of the module: every table with the
observed margins is enumerated, its probability is kept as an exact integer (the
multinomial coefficient ``N! / prod x_ij!``, proportional to the probability), and R's
counting rule is applied in exact rational arithmetic:

* 2 × 2: a table counts when ``P <= P_obs * (1 + 1e-7)`` (``relErr`` in R's
  ``fisher.test``), the factor taken as the exact value of the double ``1 + 1e-7``;
* larger: ``log P <= log P_obs + 3.45254e-7`` (FEXACT's ``TOL``), i.e.
  ``P <= P_obs * exp(3.45254e-7)``, with the double ``exp(3.45254e-7)`` as the factor.

The p-value is then an exact fraction, rounded once, and the module must match it to a
relative 1e-9 (it typically does to 1e-14).
"""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sharedground.analysis.stats import compare as compare_module
from sharedground.analysis.stats import compare_groups, fisher_exact
from sharedground.analysis.stats.fisher import (
    FEXACT_LOG_TOL,
    TWO_BY_TWO_REL_ERR,
    ExactTestTooLarge,
    fisher_pvalue,
)
from sharedground.analysis.stats.fisher_budget import Budget
from sharedground.analysis.stats.fisher_many_rows import many_rows_pvalue
from sharedground.analysis.stats.fisher_network import network_pvalue
from sharedground.analysis.stats.fisher_stagewise import _PyStagewise, _Stagewise
from sharedground.analysis.stats.fisher_two_column import _TwoColumnTables, two_column_pvalue

REL = 1e-9


@cache
def _fillings(total: int, caps: tuple[int, ...]) -> tuple[tuple[int, ...], ...]:
    """All ways to split ``total`` into ``len(caps)`` parts with part i at most caps[i]."""
    if len(caps) == 1:
        return ((total,),) if total <= caps[0] else ()
    out = []
    room = sum(caps[1:])
    for first in range(max(0, total - room), min(caps[0], total) + 1):
        out.extend((first, *rest) for rest in _fillings(total - first, caps[1:]))
    return tuple(out)


def brute_force_pvalue(table: list[list[int]]) -> Fraction:
    """Exact p-value by enumerating every table with the same margins (R's rule)."""
    rows = [sum(r) for r in table]
    cols = tuple(sum(c) for c in zip(*table, strict=True))
    n = sum(rows)
    fact = [math.factorial(i) for i in range(n + 1)]
    ratio = (
        Fraction(TWO_BY_TWO_REL_ERR)
        if (len(rows), len(cols)) == (2, 2)
        else Fraction(math.exp(FEXACT_LOG_TOL))
    )
    observed = math.prod(fact[v] for row in table for v in row)  # P is proportional to 1/this
    total = counted = 0

    def walk(i: int, left: tuple[int, ...], denominator: int) -> None:
        nonlocal total, counted
        if i == len(rows) - 1:
            d = denominator * math.prod(fact[v] for v in left)
            weight = fact[n] // d
            total += weight
            # P <= P_obs * ratio  <=>  observed <= ratio * d
            if observed * ratio.denominator <= ratio.numerator * d:
                counted += weight
            return
        for row in _fillings(rows[i], left):
            walk(
                i + 1,
                tuple(a - b for a, b in zip(left, row, strict=True)),
                denominator * math.prod(fact[v] for v in row),
            )

    walk(0, cols, 1)
    return Fraction(counted, total)


def clean(table: list[list[int]]) -> list[list[int]] | None:
    """Drop empty rows and columns; None when fewer than two of either remain."""
    rows = [r for r in table if sum(r) > 0]
    if len(rows) < 2:
        return None
    keep = [j for j in range(len(rows[0])) if any(r[j] for r in rows)]
    if len(keep) < 2:
        return None
    return [[r[j] for j in keep] for r in rows]


def log_tol(table: list[list[int]]) -> float:
    return math.log(TWO_BY_TWO_REL_ERR) if len(table) == 2 == len(table[0]) else FEXACT_LOG_TOL


# -- hand-picked tables of many shapes -----------------------------------------------------

TABLES = [
    # 2 × 2, including ties (symmetric margins) and near-certain tables
    [[3, 1], [1, 3]],
    [[1, 0], [0, 1]],
    [[2, 2], [2, 2]],
    [[5, 0], [0, 5]],
    [[10, 1], [1, 10]],
    [[0, 7], [4, 1]],
    [[12, 3], [1, 19]],
    # r × 2 and 2 × c
    [[1, 2], [2, 1], [1, 1]],
    [[3, 0], [0, 3], [2, 2]],
    [[4, 1], [2, 3], [0, 5], [3, 3]],
    [[1, 1], [1, 1], [1, 1], [1, 1]],
    [[2, 5], [6, 1], [3, 3], [0, 4], [5, 0]],
    [[1, 3], [2, 2], [3, 1], [0, 4], [4, 0], [2, 2]],
    [[3, 1, 4, 1, 5], [2, 6, 5, 3, 5]],
    [[1, 0, 2, 0, 1, 3], [0, 2, 1, 2, 1, 0]],
    # general r × c, up to 6 × 4
    [[2, 1, 0], [0, 1, 2], [1, 1, 1]],
    [[3, 0, 1], [1, 2, 2], [0, 3, 1]],
    [[1, 2, 1, 0], [0, 1, 2, 1], [2, 0, 1, 1]],
    [[2, 0, 1, 1], [1, 2, 0, 1], [0, 1, 2, 0], [1, 1, 0, 2]],
    [[1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 1], [0, 1, 0]],
    [[1, 0, 1, 0], [0, 1, 0, 1], [1, 1, 0, 0], [0, 0, 1, 1], [1, 0, 0, 1], [0, 1, 1, 0]],
    [[2, 1, 0, 1], [0, 1, 2, 0], [1, 0, 1, 1], [0, 2, 0, 1], [1, 0, 1, 0], [1, 1, 0, 0]],
    [[3, 0, 0, 0], [0, 3, 0, 0], [0, 0, 3, 0], [0, 0, 0, 3], [1, 1, 1, 1], [0, 0, 0, 1]],
]


@pytest.mark.parametrize("table", TABLES, ids=lambda t: f"{len(t)}x{len(t[0])}-{t}")
def test_fisher_matches_brute_force(table: list[list[int]]) -> None:
    expected = float(brute_force_pvalue(table))
    result = fisher_exact(table)
    assert result.p_value is not None
    assert result.p_value == pytest.approx(expected, rel=REL)


@pytest.mark.parametrize("table", TABLES, ids=lambda t: f"{len(t)}x{len(t[0])}")
def test_network_algorithm_handles_every_shape(table: list[list[int]]) -> None:
    # The general algorithm is also right on the shapes that have faster special cases.
    expected = float(brute_force_pvalue(table))
    assert network_pvalue(table, log_tol(table)) == pytest.approx(expected, rel=REL)


def _both_stagewise_forms(table: list[list[int]]) -> tuple[float, float]:
    """The stage-at-a-time walk in arrays and in plain Python, whatever the table's size."""
    arrays = _Stagewise(np.asarray(table, dtype=np.int64), log_tol(table), Budget(10**10))
    return arrays.pvalue(), _PyStagewise(table, log_tol(table)).pvalue()


@pytest.mark.parametrize("table", TABLES, ids=lambda t: f"{len(t)}x{len(t[0])}")
def test_stagewise_walk_handles_every_shape(table: list[list[int]]) -> None:
    expected = float(brute_force_pvalue(table))
    arrays, plain = _both_stagewise_forms(table)
    assert arrays == pytest.approx(expected, rel=REL)
    assert plain == pytest.approx(expected, rel=REL)


def test_ties_with_the_observed_table_count() -> None:
    # [[2, 1], [1, 2]] and [[1, 2], [2, 1]] are equally probable (P = 9/20 each), as are
    # [[3, 0], [0, 3]] and [[0, 3], [3, 0]] (P = 1/20): every table ties with another.
    assert brute_force_pvalue([[2, 1], [1, 2]]) == 1
    assert fisher_exact([[2, 1], [1, 2]]).p_value == pytest.approx(1.0, rel=1e-15)
    assert brute_force_pvalue([[3, 0], [0, 3]]) == Fraction(1, 10)
    assert fisher_exact([[3, 0], [0, 3]]).p_value == pytest.approx(0.1, rel=1e-14)


# -- random small tables (hypothesis) ------------------------------------------------------


@st.composite
def small_tables(draw: st.DrawFn) -> list[list[int]]:
    r = draw(st.integers(2, 6))
    c = draw(st.integers(2, 4))
    # Keep brute force fast: fewer people in bigger tables.
    cap = max(1, 28 // (r * c))
    return [[draw(st.integers(0, cap)) for _ in range(c)] for _ in range(r)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_tables())
def test_random_small_tables_match_brute_force(raw: list[list[int]]) -> None:
    table = clean(raw)
    result = compare_groups(raw)
    if table is None:
        assert result.p_value is None
        return
    expected = float(brute_force_pvalue(table))
    assert fisher_exact(raw).p_value == pytest.approx(expected, rel=REL)
    assert network_pvalue(table, log_tol(table)) == pytest.approx(expected, rel=REL)
    arrays, plain = _both_stagewise_forms(table)
    assert arrays == pytest.approx(expected, rel=REL)
    assert plain == pytest.approx(expected, rel=REL)


@st.composite
def two_column_tables(draw: st.DrawFn) -> list[list[int]]:
    r = draw(st.integers(2, 7))
    cap = draw(st.sampled_from([2, 5, 9]))
    return [[draw(st.integers(0, cap)), draw(st.integers(0, cap))] for _ in range(r)]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(two_column_tables())
def test_random_two_column_tables_match_brute_force(raw: list[list[int]]) -> None:
    table = clean(raw)
    if table is None or len(table[0]) != 2:
        return
    expected = float(brute_force_pvalue(table))
    totals = [a + b for a, b in table]
    first = [a for a, _ in table]
    tol = log_tol(table)
    assert many_rows_pvalue(totals, first, tol) == pytest.approx(expected, rel=REL)
    if len(table) <= 4:
        tables = _TwoColumnTables(totals, first, tol)
        assert tables.pvalue() == pytest.approx(expected, rel=REL)
        if len(table) > 2:
            # Both ways of adding up; the complement is only trusted above 1e-5.
            assert tables._by_tails() == pytest.approx(expected, rel=REL)
            if expected > 1e-3:
                assert tables._by_complement() == pytest.approx(expected, rel=REL)


# -- larger two-column tables against exact integer enumeration ------------------------------


def two_column_exact(table: list[list[int]]) -> Fraction:
    """Exact p-value of an r × 2 table: enumerate first-column vectors with math.comb."""
    n = [a + b for a, b in table]
    m = sum(a for a, _ in table)
    combs = [[math.comb(ni, a) for a in range(ni + 1)] for ni in n]
    observed = math.prod(combs[i][a] for i, (a, _) in enumerate(table))
    ratio = Fraction(TWO_BY_TWO_REL_ERR) if len(n) == 2 else Fraction(math.exp(FEXACT_LOG_TOL))
    counted = 0

    def walk(i: int, left: int, weight: int) -> None:
        nonlocal counted
        if i == len(n) - 1:
            if left <= n[i]:
                w = weight * combs[i][left]
                if w * ratio.denominator <= ratio.numerator * observed:
                    counted += w
            return
        rest = sum(n[i + 1 :])
        for a in range(max(0, left - rest), min(n[i], left) + 1):
            walk(i + 1, left - a, weight * combs[i][a])

    walk(0, m, 1)
    return Fraction(counted, math.comb(sum(n), m))


@pytest.mark.parametrize(
    "table",
    [
        [[480, 1520], [530, 1470]],
        [[30, 170], [45, 155], [60, 140]],
        [[90, 110], [110, 90], [100, 100]],
        [[12, 48], [20, 40], [9, 51], [15, 45]],
        [[28, 32], [35, 25], [22, 38], [30, 30]],
        [[2, 58], [9, 51], [4, 56], [0, 60]],
    ],
)
def test_larger_two_column_tables_match_exact_enumeration(table: list[list[int]]) -> None:
    expected = float(two_column_exact(table))
    assert fisher_exact(table).p_value == pytest.approx(expected, rel=REL)
    # The two-column algorithm itself: fisher_exact gives tables of up to a few hundred
    # answers to the compiled walk, and this one only larger ones.
    totals, first = [a + b for a, b in table], [a for a, _ in table]
    assert two_column_pvalue(totals, first, log_tol(table), Budget(10**10)) == (
        pytest.approx(expected, rel=REL)
    )
    assert fisher_exact([list(col) for col in zip(*table, strict=True)]).p_value == (
        pytest.approx(expected, rel=REL)
    )


def test_large_counts_both_summation_methods_agree() -> None:
    # N = 1e6: no independent exact reference is affordable, so the two ways of adding up
    # (tables that count, and one minus those that do not) must agree.
    tables = _TwoColumnTables([250_000] * 4, [125_000, 125_300, 124_800, 125_200], FEXACT_LOG_TOL)
    direct = tables._by_tails()
    assert tables._by_complement() == pytest.approx(direct, rel=1e-10)


# -- tables too large for an exact computation ---------------------------------------------


def test_too_large_exact_test_gives_no_p_value_with_a_reason(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    table = [[40, 35, 30, 25, 20], [30, 40, 35, 20, 25], [25, 30, 40, 35, 20], [1, 2, 0, 1, 3]]
    counts = tuple(tuple(row) for row in table)
    with pytest.raises(ExactTestTooLarge):
        fisher_pvalue(counts, max_work=10_000)
    # compare_groups turns the condition into p_value None and an explanation.
    monkeypatch.setattr(compare_module, "ANALYSIS_MAX_WORK", 10_000)
    result = compare_groups(table)
    assert result.test == "fisher"
    assert result.p_value is None
    assert "too large to compute exactly" in result.reason
    result = fisher_exact(table, max_work=10_000)
    assert result.test == "fisher"
    assert result.p_value is None
    assert "too large to compute exactly" in result.reason
