"""Comparing groups on a table of answer counts: chi-squared or the exact test."""

from __future__ import annotations

from .chi2 import chi2_pvalue, pearson_statistic
from .fisher import ExactTestTooLarge, fisher_test
from .fisher_budget import ANALYSIS_MAX_WORK, DEFAULT_MAX_WORK, UNITS_PER_SECOND
from .result import TestResult
from .table import CleanTable, Counts, clean_table, expected_at_least, smallest_expected

#: Smallest expected count for which the chi-squared approximation is used.
MIN_EXPECTED = 5


def _join(*sentences: str) -> str:
    return " ".join(s for s in sentences if s)


def _degenerate(table: CleanTable) -> TestResult:
    assert table.problem is not None
    return TestResult(None, None, None, None, _join(table.dropped_note, table.problem))


def _expected_note(table: CleanTable) -> str:
    smallest = smallest_expected(table.counts)
    if expected_at_least(table.counts, MIN_EXPECTED):
        return f"every expected count is at least {MIN_EXPECTED} (smallest {smallest:.3g})"
    return f"the smallest expected count is {smallest:.3g}, below {MIN_EXPECTED}"


def _run_chi2(table: CleanTable, why: str) -> TestResult:
    statistic = pearson_statistic(table.counts)
    df = (len(table.counts) - 1) * (len(table.counts[0]) - 1)
    p = chi2_pvalue(statistic, df)
    reason = _join(
        table.dropped_note,
        f"Pearson's chi-squared test without continuity correction: {why}.",
    )
    return TestResult("chi2", statistic, df, p, reason)


def _run_fisher(table: CleanTable, why: str, max_work: int) -> TestResult:
    r, c = len(table.counts), len(table.counts[0])
    name = "Fisher's exact test" if (r, c) == (2, 2) else "Exact Fisher–Freeman–Halton test"
    try:
        outcome = fisher_test(table.counts, max_work)
    except ExactTestTooLarge:
        return TestResult(
            "fisher",
            None,
            None,
            None,
            _join(
                table.dropped_note,
                f"{name} needed ({why}), but this {r} × {c} table with "
                f"{sum(map(sum, table.counts))} answers is too large to compute exactly "
                f"within the work allowed ({max_work:,} units, about "
                f"{max_work / UNITS_PER_SECOND:.2g} s), and the bounds on its p-value do "
                "not settle its significance; merging sparse answer options would make "
                "it feasible.",
            ),
        )
    return TestResult(
        "fisher",
        None,
        None,
        outcome.p_value,
        _join(table.dropped_note, f"{name}: {why}.", outcome.describe()),
    )


def compare_groups(counts: Counts) -> TestResult:
    """Test whether the groups (rows) answer differently (columns are answer options).

    Uses Pearson's chi-squared test without continuity correction when every expected
    count is at least 5, and otherwise the exact Fisher–Freeman–Halton test (Fisher's
    exact test for 2 × 2), with p-values matching R's ``chisq.test(correct = FALSE)`` and
    ``fisher.test``.

    The exact test works within about a second
    (:data:`~sharedground.analysis.stats.fisher_budget.ANALYSIS_MAX_WORK`): a p-value below
    1e-300 is reported as 0, one whose bounds settle the stars may be reported as its upper
    bound, and a test that would take longer has ``p_value`` None; the ``reason`` says which.

    Rows or columns with no counts at all are dropped first (the ``reason`` says so). If
    fewer than two groups or two answer options remain, or the table is empty, no test is
    possible: ``p_value`` is None and ``reason`` explains why.

    Args:
        counts: One row per group, one column per answer option, non-negative whole
            numbers (a list of lists or a 2-D numpy array).

    Returns:
        The test used, its statistic and degrees of freedom (chi-squared only), the
        p-value and a plain-language reason.

    Raises:
        ValueError: Counts are negative, not whole numbers, or the rows differ in length.
    """
    table = clean_table(counts)
    if table.problem is not None:
        return _degenerate(table)
    why = _expected_note(table)
    if expected_at_least(table.counts, MIN_EXPECTED):
        return _run_chi2(table, why)
    return _run_fisher(table, why, ANALYSIS_MAX_WORK)


def chi_square(counts: Counts) -> TestResult:
    """Pearson's chi-squared test without continuity correction, whatever the counts.

    Same input handling as :func:`compare_groups`; the ``reason`` notes when expected
    counts below 5 make the approximation doubtful.
    """
    table = clean_table(counts)
    if table.problem is not None:
        return _degenerate(table)
    return _run_chi2(table, "requested; " + _expected_note(table))


def fisher_exact(counts: Counts, *, max_work: int = DEFAULT_MAX_WORK) -> TestResult:
    """The exact Fisher–Freeman–Halton test (Fisher's exact test for 2 × 2), always.

    Same input handling as :func:`compare_groups`, with a larger budget by default:
    ``max_work`` units (see :mod:`~sharedground.analysis.stats.fisher_budget`; the default
    allows about four seconds). A p-value below 1e-300 is reported as 0; when the exact sum
    would exceed the budget, the upper bound on the p-value is reported if it settles the
    stars, and otherwise ``p_value`` is None; the ``reason`` says which.
    """
    table = clean_table(counts)
    if table.problem is not None:
        return _degenerate(table)
    return _run_fisher(table, "requested; " + _expected_note(table), max_work)
