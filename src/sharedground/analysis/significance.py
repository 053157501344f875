"""The test of equality across groups for each row, its stars, and adjusted q-values.

The statistics themselves (chi-squared, the exact Fisher-Freeman-Halton test, the
adjustments) live in `sharedground.stats`; this module decides what to test and how to
print it, as the 2015 report did: stars from the raw p-value, the test used named.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from sharedground.analysis.results import TestOutcome

ADJUSTMENTS = ("bh", "holm")


def stars(p_value: float | None) -> str | None:
    """`***` p < 0.001, `**` p < 0.01, `*` p < 0.05, `n.s.` otherwise (None: no test)."""
    if p_value is None:
        return None
    if p_value < 0.001:
        return "***"
    if p_value < 0.01:
        return "**"
    if p_value < 0.05:
        return "*"
    return "n.s."


def compare(counted: npt.NDArray[np.int64], valid: npt.NDArray[np.int64]) -> TestOutcome:
    """Test one row across the given groups (groups with no valid answer are left out).

    The table is groups x (counted, not counted among valid answers); `sharedground.stats`
    uses Pearson's chi-squared without continuity correction when every expected count is
    at least 5 and the exact Fisher-Freeman-Halton test otherwise.
    """
    keep = valid > 0
    table = np.column_stack([counted[keep], valid[keep] - counted[keep]]).astype(np.int64)
    groups = int(keep.sum())
    if groups < 2:
        return TestOutcome("none", None, None, None, None, groups, "fewer than two groups")
    if table[:, 0].sum() == 0 or table[:, 1].sum() == 0:
        reason = "everyone or no one was counted: nothing to compare"
        return TestOutcome("none", None, None, None, None, groups, reason)
    from sharedground import stats  # imported here: `stats` lives inside this package too

    result = stats.compare_groups(table)
    p_value = None if result.p_value is None else float(result.p_value)
    return TestOutcome(
        name=str(result.test),
        statistic=None if result.statistic is None else float(result.statistic),
        df=None if result.df is None else int(result.df),
        p_value=p_value,
        stars=stars(p_value),
        groups=groups,
        reason=result.reason or None,
    )


def q_values(p_values: Sequence[float | None], method: str) -> list[float | None]:
    """Adjusted p-values across one table's rows (rows without a test keep None)."""
    if method not in ADJUSTMENTS:
        raise ValueError(f"unknown adjustment {method!r}; use one of {', '.join(ADJUSTMENTS)}")
    present = [i for i, p in enumerate(p_values) if p is not None]
    out: list[float | None] = [None] * len(p_values)
    if not present:
        return out
    from sharedground import stats

    adjusted = stats.adjust([float(p_values[i]) for i in present], method)  # type: ignore[arg-type]
    for i, q in zip(present, adjusted, strict=True):
        out[i] = float(q)
    return out
