"""compare_groups and friends: test choice, R's published figures, closed forms, bad input.

Reference values here never come from the module under test:

* R's printed outputs (documentation examples), compared within the rounding of the
  digits R prints, and cross-checked against the exact enumerator of
  ``test_stats_exact.py`` where that is feasible;
* closed forms of the chi-squared upper tail (``exp(-x/2)`` for df = 2, and so on), with
  the statistic computed here in exact rational arithmetic;
* SciPy's own 2 × 2 Fisher test (an independent implementation of the same rule).
"""

from __future__ import annotations

import math
import time
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats as scipy_stats

from sharedground import stats as shortcut
from sharedground.analysis.stats import (
    TestResult,
    chi_square,
    compare_groups,
    fisher_exact,
    stars,
)
from sharedground.analysis.stats.chi2 import chi2_pvalue


def exact_pearson(table: list[list[int]]) -> Fraction:
    """Pearson's X^2 in exact rationals, written out independently of the module."""
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table, strict=True)]
    n = sum(rows)
    return sum(
        (
            (Fraction(table[i][j]) - Fraction(rows[i] * cols[j], n)) ** 2
            / Fraction(rows[i] * cols[j], n)
            for i in range(len(rows))
            for j in range(len(cols))
        ),
        Fraction(0),
    )


def chi2_sf_closed_form(x: float, df: int) -> float:
    """Upper tail of chi-squared from textbook closed forms (df = 1..8)."""
    if df % 2 == 0:
        # exp(-x/2) * sum_{k < df/2} (x/2)^k / k!
        half = x / 2
        return math.exp(-half) * math.fsum(half**k / math.factorial(k) for k in range(df // 2))
    # Odd df: erfc(sqrt(x/2)) + exp(-x/2) * sum over the half-integer terms.
    root = math.sqrt(x / 2)
    extra = 0.0
    term = math.sqrt(x) / math.sqrt(math.pi / 2)  # (2x/pi)^(1/2) for df = 3
    for k in range(1, (df + 1) // 2):
        extra += term
        term *= x / (2 * k + 1)
    return math.erfc(root) + math.exp(-x / 2) * extra


# -- choosing the test --------------------------------------------------------------


def test_chi2_when_every_expected_count_is_at_least_five() -> None:
    result = compare_groups([[30, 20], [25, 25]])
    assert result.test == "chi2"
    assert result.df == 1
    assert result.statistic is not None
    assert "at least 5" in result.reason


def test_fisher_when_an_expected_count_is_below_five() -> None:
    result = compare_groups([[3, 1], [1, 3]])
    assert result.test == "fisher"
    assert result.statistic is None and result.df is None
    assert "below 5" in result.reason


def test_expected_count_of_exactly_five_uses_chi2() -> None:
    # Row totals 10 and 10, column totals 10 and 10, N = 20: every expected count is 5.
    assert compare_groups([[6, 4], [4, 6]]).test == "chi2"
    # One fewer person makes the smallest expected count 4.5.
    assert compare_groups([[6, 4], [4, 5]]).test == "fisher"


def test_published_2015_table_2_7_public_respects_doctors_uses_fisher() -> None:
    # Report 2015, table 2.7, "In general, doctors are respected by the public": agreeing
    # 55 of 57, 126 of 129, 127 of 127, 139 of 148 (denominators inferred from the
    # published percentages). The few who disagree make expected counts < 5, so the
    # exact test is used, as the report did; the report shows '*'.
    table = [[55, 2], [126, 3], [127, 0], [139, 9]]
    result = compare_groups(table)
    assert result.test == "fisher"
    assert result.p_value is not None
    assert result.stars == "*"


def test_forced_tests() -> None:
    table = [[3, 1], [1, 3]]
    assert chi_square(table).test == "chi2"
    assert "below 5" in chi_square(table).reason
    assert fisher_exact([[30, 20], [25, 25]]).test == "fisher"


def test_shortcut_module_exposes_the_same_functions() -> None:
    assert shortcut.compare_groups is compare_groups
    assert shortcut.stars is stars


# -- R's published figures -------------------------------------------------------------


def test_r_chisq_test_documentation_example() -> None:
    # ?chisq.test: M <- as.table(rbind(c(762, 327, 468), c(484, 239, 477)))
    # chisq.test(M) prints X-squared = 30.07, df = 2, p-value = 2.954e-07 (a 2 × 3 table
    # gets no continuity correction, so correct = FALSE gives the same).
    result = chi_square([[762, 327, 468], [484, 239, 477]])
    assert result.df == 2
    assert result.statistic is not None and result.p_value is not None
    assert abs(result.statistic - 30.07) <= 0.005
    assert abs(result.p_value - 2.954e-07) <= 0.0005e-07
    chosen = compare_groups([[762, 327, 468], [484, 239, 477]])
    assert (chosen.test, chosen.p_value) == ("chi2", result.p_value)


def test_r_fisher_test_tea_tasting() -> None:
    # ?fisher.test: TeaTasting <- matrix(c(3, 1, 1, 3), nrow = 2); fisher.test(TeaTasting)
    # prints p-value = 0.4857 (two-sided). Exactly 34/70 by enumeration.
    result = compare_groups([[3, 1], [1, 3]])
    assert result.p_value is not None
    assert abs(result.p_value - 0.4857) <= 0.00005
    assert result.p_value == pytest.approx(34 / 70, rel=1e-12)


def test_r_fisher_test_convictions() -> None:
    # ?fisher.test: Convictions <- matrix(c(2, 10, 15, 3), nrow = 2) (filled by column:
    # rows 2, 15 and 10, 3); the two-sided p-value is 0.0005367.
    result = fisher_exact([[2, 15], [10, 3]])
    assert result.p_value is not None
    assert abs(result.p_value - 0.0005367) <= 0.00000005
    # SciPy's exact 2 × 2 test uses the same 1 + 1e-7 rule.
    assert result.p_value == pytest.approx(
        scipy_stats.fisher_exact([[2, 15], [10, 3]]).pvalue, rel=1e-12
    )


def test_r_fisher_test_job_satisfaction() -> None:
    # ?fisher.test: Job <- matrix(c(1,2,1,0, 3,3,6,1, 10,10,14,9, 6,7,12,11), 4, 4)
    # (Agresti 2002, p. 57), filled by column; fisher.test(Job) # 0.7827
    job = [[1, 3, 10, 6], [2, 3, 10, 7], [1, 6, 14, 12], [0, 1, 9, 11]]
    result = compare_groups(job)
    assert result.test == "fisher"
    assert result.p_value is not None
    assert abs(result.p_value - 0.7827) <= 0.00005


# -- chi-squared against closed forms ----------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        [[762, 327, 468], [484, 239, 477]],  # df 2
        [[20, 30, 50], [45, 25, 30]],  # df 2
        [[40, 10], [20, 30], [15, 35]],  # df 2
        [[900, 10], [10, 900], [455, 455]],  # df 2, p ~ 1e-300
        [[12, 9, 7], [8, 15, 11], [10, 6, 14]],  # df 4
        [[30, 12], [11, 25]],  # df 1
        [[20, 15, 10, 25], [10, 30, 20, 12]],  # df 3
        [[14, 9, 12, 7], [8, 16, 11, 13], [11, 9, 15, 10]],  # df 6
        [[25, 9, 14], [12, 21, 9], [10, 15, 24], [17, 8, 11]],  # df 6
        [[9, 14, 7, 12, 10], [13, 8, 12, 9, 11], [7, 10, 15, 11, 9]],  # df 8
    ],
)
def test_chi2_matches_closed_form_tail(table: list[list[int]]) -> None:
    expected_stat = exact_pearson(table)
    df = (len(table) - 1) * (len(table[0]) - 1)
    result = chi_square(table)
    assert result.df == df
    assert result.statistic == float(expected_stat)
    assert result.p_value is not None
    assert result.p_value == pytest.approx(chi2_sf_closed_form(float(expected_stat), df), rel=1e-12)


def test_chi2_tail_equals_scipy_chdtrc_on_a_grid() -> None:
    """The closed form in logarithms against SciPy's own incomplete gamma (``chdtrc``)."""
    from scipy.special import chdtrc

    worst = 0.0
    for df in range(1, 121):
        for x in [*np.geomspace(1e-8, 3000.0, 200), 0.5, 3.84, float(df), df + 0.5]:
            ours, theirs = chi2_pvalue(float(x), df), float(chdtrc(df, x))
            assert 0.0 <= ours <= 1.0
            if theirs > 1e-290:  # below that SciPy returns subnormals
                worst = max(worst, abs(ours - theirs) / theirs)
    assert worst < 1e-12
    assert (chi2_pvalue(0.0, 3), chi2_pvalue(math.inf, 3)) == (1.0, 0.0)
    assert math.isnan(chi2_pvalue(-1.0, 3)) and math.isnan(chi2_pvalue(math.nan, 3))
    with pytest.raises(ValueError, match="whole number"):
        chi2_pvalue(1.0, 0)
    # R 4.2.2, print(pchisq(3.841459, 1, lower.tail = FALSE), digits = 10) and the same
    # for pchisq(100, 60, lower.tail = FALSE)
    assert chi2_pvalue(3.841459, 1) == pytest.approx(0.04999999465, rel=1e-9)
    assert chi2_pvalue(100.0, 60) == pytest.approx(0.0009168288615, rel=1e-9)


def test_chi2_tiny_p_value_keeps_relative_precision() -> None:
    # X^2 = 1280 here and p is about 1e-280; 1 - cdf would return 0.
    table = [[900, 100], [100, 900]]
    result = chi_square(table)
    x = float(exact_pearson(table))
    assert result.p_value is not None and 0 < result.p_value < 1e-250
    assert result.p_value == pytest.approx(math.erfc(math.sqrt(x / 2)), rel=1e-11)


# -- exact test on large tables -------------------------------------------------------------


@pytest.mark.parametrize(
    "table",
    [
        [[500_000, 499_000], [1_000, 2_000]],
        [[250_000, 250_300], [249_800, 249_900]],
        [[123_456, 376_544], [125_000, 375_000]],
    ],
)
def test_exact_2x2_with_a_million_people_matches_scipy(table: list[list[int]]) -> None:
    ours = fisher_exact(table).p_value
    theirs = scipy_stats.fisher_exact(table).pvalue
    assert ours is not None
    assert ours == pytest.approx(theirs, rel=1e-9)


def test_exact_4x2_with_a_million_people_is_quick_and_close_to_chi2() -> None:
    # The real measurement is bench/bench_stats.py; this only guards against regressions.
    table = [[250_000 - x, x] for x in (125_000, 125_400, 124_700, 125_300)]
    start = time.perf_counter()
    result = fisher_exact(table)
    elapsed = time.perf_counter() - start
    assert elapsed < 5.0
    assert result.p_value is not None
    # With counts this large the exact test and chi-squared agree closely.
    chi2 = chi_square(table).p_value
    assert chi2 is not None
    assert result.p_value == pytest.approx(chi2, rel=1e-3)


# -- degenerate and invalid input ------------------------------------------------------------


def test_empty_rows_and_columns_are_dropped_and_reported() -> None:
    result = compare_groups([[10, 0, 12], [0, 0, 0], [14, 0, 9]])
    assert "Dropped 1 group with no answers (row 2)" in result.reason
    assert "1 answer option nobody chose (column 2)" in result.reason
    same = compare_groups([[10, 12], [14, 9]])
    assert "Dropped" not in same.reason
    assert (result.test, result.statistic, result.df, result.p_value) == (
        same.test,
        same.statistic,
        same.df,
        same.p_value,
    )


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ([], "empty"),
        ([[]], "empty"),
        ([[0, 0], [0, 0]], "zero"),
        ([[4, 7, 2]], "one group"),
        ([[4, 7], [0, 0]], "one group"),
        ([[5, 0], [9, 0]], "same option"),
        ([[5], [9], [1]], "same option"),
    ],
)
def test_degenerate_tables_give_no_p_value_and_say_why(table: list[list[int]], words: str) -> None:
    for run in (compare_groups, chi_square, fisher_exact):
        result = run(table)
        assert result.p_value is None
        assert result.test is None
        assert words in result.reason
        assert result.stars == ""


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ([[1, -2], [3, 4]], "negative"),
        ([[1, 2.5], [3, 4]], "whole numbers"),
        ([[1, float("nan")], [3, 4]], "whole numbers"),
        ([[1, True], [3, 4]], "booleans"),
        ([[1, "2"], [3, 4]], "whole numbers"),
        ([[1, 2], [3]], "same number of columns"),
        ([1, 2, 3], "list of rows"),
        ("12", "list of rows"),
    ],
)
def test_invalid_counts_raise_value_error(table: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        compare_groups(table)  # type: ignore[arg-type]


def test_numpy_input_and_whole_floats_are_accepted() -> None:
    as_lists = compare_groups([[3, 1], [1, 3]])
    assert compare_groups(np.array([[3, 1], [1, 3]])) == as_lists
    assert compare_groups([[3.0, 1.0], [1.0, 3.0]]) == as_lists
    assert compare_groups([[np.int64(3), 1], [1, np.int32(3)]]) == as_lists
    with pytest.raises(ValueError, match="2-D"):
        compare_groups(np.array([1, 2, 3]))


def test_p_values_are_never_nan() -> None:
    for table in ([[1, 0], [0, 1]], [[1, 1], [1, 1]], [[0, 5], [5, 0]], [[100, 0], [0, 1]]):
        p = compare_groups(table).p_value
        assert p is not None and not math.isnan(p) and 0.0 < p <= 1.0


# -- stars ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (None, ""),
        (0.0, "***"),
        (0.000999, "***"),
        (0.001, "**"),
        (0.00999, "**"),
        (0.01, "*"),
        (0.0499, "*"),
        (0.05, "n.s."),
        (1.0, "n.s."),
    ],
)
def test_stars(p: float | None, expected: str) -> None:
    assert stars(p) == expected
    assert TestResult("chi2" if p is not None else None, None, None, p, "").stars == expected


def test_result_is_frozen() -> None:
    result = compare_groups([[3, 1], [1, 3]])
    with pytest.raises(AttributeError):
        result.p_value = 0.5  # type: ignore[misc]
