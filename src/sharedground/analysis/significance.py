"""The test of equality across groups for each row, its stars, and adjusted q-values.

The statistics themselves (chi-squared, the exact Fisher-Freeman-Halton test, Newcombe's
interval, the adjustments) live in `sharedground.stats`; this module decides what is
tested and how it is reported, as the 2015 report did: stars from the raw p-value, the
test used named.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from sharedground import stats
from sharedground.analysis.results import TestOutcome

ADJUSTMENTS = ("bh", "holm")


def stars(p_value: float | None) -> str | None:
    """`***` p < 0.001, `**` p < 0.01, `*` p < 0.05, `n.s.` otherwise; None without a test."""
    return stats.stars(p_value) or None


def compare(counted: npt.NDArray[np.int64], valid: npt.NDArray[np.int64]) -> TestOutcome:
    """Test one row across the given groups: groups x (counted, not counted) among valid.

    `sharedground.stats.compare_groups` uses Pearson's chi-squared without continuity
    correction when every expected count is at least 5 and the exact Fisher-Freeman-Halton
    test otherwise; it leaves out groups nobody answered in, and says why when no test is
    possible (fewer than two groups, or everyone or no one counted).
    """
    table = np.column_stack([counted, valid - counted]).astype(np.int64)
    result = stats.compare_groups(table)
    groups = int((valid > 0).sum())
    if result.test is None or result.p_value is None:
        return TestOutcome("none", None, None, None, None, groups, result.reason or None)
    p_value = float(result.p_value)
    return TestOutcome(
        name=result.test,
        statistic=None if result.statistic is None else float(result.statistic),
        df=result.df,
        p_value=p_value,
        stars=stars(p_value),
        groups=groups,
        reason=result.reason or None,
    )


def q_values(p_values: Sequence[float | None], method: str) -> list[float | None]:
    """Adjusted p-values across one table's rows (rows without a test keep None)."""
    if method not in ADJUSTMENTS:
        raise ValueError(f"unknown adjustment {method!r}; use one of {', '.join(ADJUSTMENTS)}")
    return stats.adjust(p_values, method)


def two_proportions(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float, float, float | None]:
    """x1/n1 against x2/n2: difference in points, its 95% CI (Newcombe) and the p-value.

    The p-value is None when no test is possible (everyone gave the same answer).
    """
    result = stats.two_proportions(x1, n1, x2, n2)
    if result.difference is None or result.ci_low is None or result.ci_high is None:
        raise ValueError(f"cannot compare {x1}/{n1} with {x2}/{n2}: {result.reason}")
    return result.difference, result.ci_low, result.ci_high, result.p_value
