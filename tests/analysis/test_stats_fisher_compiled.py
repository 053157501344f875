"""The compiled walk (fisher_compiled, _fisher_walk.c) against brute force and the Python walk.

The compiled walk is the plain-Python walk of fisher_stagewise line for line in C, so the
two must agree to rounding on every table; both are checked against brute-force
enumeration in exact rational arithmetic (test_stats_exact.brute_force_pvalue) and the
compiled one against R's values (test_stats_fisher_budget). Here: it is installed, it agrees,
it keeps to its budget, and it refuses what it cannot take with an error, not a crash.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_stats_exact import brute_force_pvalue, clean, log_tol

from sharedground.analysis.stats import fisher_compiled, fisher_exact
from sharedground.analysis.stats.fisher import FEXACT_LOG_TOL, ExactTestTooLarge, fisher_test
from sharedground.analysis.stats.fisher_budget import DEFAULT_MAX_WORK, Budget
from sharedground.analysis.stats.fisher_compiled import compiled_pvalue, suits
from sharedground.analysis.stats.fisher_stagewise import _PyStagewise

# Issue #15's hard 6 x 4 table of 88 answers (R: p = 0.115452, workspace 2e8).
# As 4 x 6 (its transpose: same p-value).
HARD_6X4 = [
    [4, 1, 2, 2, 3, 2],
    [5, 5, 0, 1, 2, 5],
    [6, 7, 5, 3, 5, 0],
    [2, 6, 7, 3, 8, 4],
]


def test_the_compiled_walk_is_installed() -> None:
    # Built by hatch_build.py when the package is installed (make install); without it
    # small r x c tables take the Python walk, several times slower than R.
    assert fisher_compiled.AVAILABLE, (
        "sharedground/analysis/stats/_fisher_walk*.so is missing: reinstall with a C compiler "
        "(make install, or pip install -e .)"
    )


@st.composite
def tables(draw: st.DrawFn) -> list[list[int]]:
    # Both orientations, up to 6 x 4 (brute force lists every table: keep N small).
    r, c = draw(st.sampled_from([(r, c) for r in range(2, 7) for c in range(2, 5)]))
    if draw(st.booleans()):
        r, c = c, r
    cap = max(1, 28 // (r * c))
    return [[draw(st.integers(0, cap)) for _ in range(c)] for _ in range(r)]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tables())
def test_random_tables_match_brute_force_and_the_python_walk(raw: list[list[int]]) -> None:
    table = clean(raw)
    if table is None:
        return
    assert suits(table)
    expected = float(brute_force_pvalue(table))
    compiled = compiled_pvalue(table, log_tol(table), Budget(10**10))
    assert compiled == pytest.approx(expected, rel=1e-9)
    # To rounding: with three stages the compiled walk takes the largest first, the plain
    # walk the smallest, so their fixed-point sums differ by a few 2**-37.
    plain = _PyStagewise(table, log_tol(table), Budget(10**10)).pvalue()
    assert compiled == pytest.approx(plain, rel=1e-10)


@pytest.mark.parametrize(
    "table",
    [
        # Many rows of two answers (the shorter side is 2: 20 stages).
        [[8 + i % 5, 12 - i % 5] for i in range(20)],
        # Ties among the row totals (fillings counted by their permutations).
        [[5, 5, 5], [5, 5, 5], [5, 5, 5], [4, 6, 5]],
        # Larger counts, near the fixed point's limit of about 700 answers.
        [[100, 80, 90, 80], [90, 90, 90, 80]],
        # More than 6 rows on the shorter side: a node's least future by subset sums.
        [
            [0, 0, 1, 1, 3, 0, 1, 0],
            [1, 1, 0, 0, 0, 0, 0, 1],
            [1, 0, 0, 0, 1, 0, 0, 0],
            [1, 1, 1, 0, 0, 0, 2, 0],
            [1, 3, 0, 0, 1, 0, 0, 0],
            [0, 0, 1, 1, 0, 1, 2, 0],
            [0, 1, 1, 1, 0, 0, 1, 0],
        ],
    ],
    ids=["20x2", "tied-rows", "2x4-N700", "7x8"],
)
def test_larger_tables_match_the_python_walk(table: list[list[int]]) -> None:
    compiled = compiled_pvalue(table, FEXACT_LOG_TOL, Budget(10**10))
    plain = _PyStagewise(table, FEXACT_LOG_TOL, Budget(10**10)).pvalue()
    assert compiled == pytest.approx(plain, rel=1e-10)


def test_fisher_exact_takes_the_compiled_walk_for_small_tables() -> None:
    # Same table, same value through the public function; the work counted is the
    # compiled walk's (a few hundred units), not the Python walk's (80 units a step).
    # R: fisher.test(matrix(c(1,7,2,0,0,5,1,3,1), nrow = 3))$p.value = 0.0229275368594252
    # (the 3 x 3 table of 20 answers in test_stats_fisher_budget).
    result = fisher_test(((1, 0, 1), (7, 0, 3), (2, 5, 1)))
    assert result.kind == "exact"
    assert result.p_value == pytest.approx(0.0229275368594252, rel=1e-9)
    assert result.work < 2_000


def test_the_budget_stops_the_walk_and_the_table_is_refused_quickly() -> None:
    budget = Budget(1_000_000)
    start = time.process_time()
    with pytest.raises(ExactTestTooLarge, match="1,000,000 units"):
        compiled_pvalue(HARD_6X4, FEXACT_LOG_TOL, budget)
    # Refused within its budget: a million units is nominally 40 ms (fisher_budget).
    assert time.process_time() - start < 1.0
    assert budget.used == budget.limit


def test_the_hard_six_by_four_is_answered_within_the_default_budget() -> None:
    budget = Budget(DEFAULT_MAX_WORK)
    p = compiled_pvalue(HARD_6X4, FEXACT_LOG_TOL, budget)
    assert p == pytest.approx(0.115452, abs=5e-7)  # R: 0.115452 (fisher.test, workspace 2e8)
    # Work counts do not depend on the machine: the same table, the same count.
    again = Budget(DEFAULT_MAX_WORK)
    compiled_pvalue(HARD_6X4, FEXACT_LOG_TOL, again)
    assert 0 < budget.used == again.used < DEFAULT_MAX_WORK


def test_tables_beyond_its_limits_go_to_the_python_walk() -> None:
    # More than 16 groups on the shorter side, or too many answers for the fixed point.
    assert not suits([[1] * 17 for _ in range(17)])
    assert not suits([[400, 400], [400, 400]])
    # fisher_exact still answers them (SciPy: fisher_exact([[400, 400], [400, 410]]).pvalue).
    assert fisher_exact([[400, 400], [400, 410]]).p_value == pytest.approx(0.841969096, rel=1e-8)


@pytest.mark.parametrize(
    ("rows", "stages", "message"),
    [
        ([3, 2], [2, 3], "ascending"),
        ([2, 3], [2, 2], "one total"),
        ([0, 5], [2, 3], "positive"),
        ([5], [5], "2-16 rows"),
    ],
)
def test_bad_inputs_to_the_extension_raise_not_crash(
    rows: list[int], stages: list[int], message: str
) -> None:
    walk = fisher_compiled._walk
    assert walk is not None
    n = sum(stages)
    fixed = [0] * (n + 1)
    lf = [0.0] * (n + 1)
    with pytest.raises(ValueError, match=message):
        walk.walk(rows, stages, fixed, lf, 0, 0.0, 1000)
