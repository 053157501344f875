"""Statistical process control charts with NHS England's *Making Data Count* rules.

XmR charts (individual values, limits at the mean +/- 2.66 times the mean moving range, with
moving ranges above 3.267 times their mean screened out before the limits are set) and p-charts
(proportions, limits at p-bar +/- 3 binomial standard errors of each point's own size). The
rules, each a small function of its own as in the NHS-R community's NHSRplotthedots package,
whose definitions these follow:

- a point beyond the process limits;
- a run of seven points on one side of the mean (a point on the mean breaks the run);
- seven points in a row each rising (or each falling) from the one before;
- two of three points in a row beyond two sigma on the same side of the mean (all three on
  that side; the points flagged are those between two and three sigma).

Every point of a run, trend or pattern is flagged, not only the seventh. A flagged point is
"improvement" or "concern" according to its side of the mean and the direction that is better.
The variation icon describes the last point; the assurance icon compares a target with the
last point's limits. Limits can be fixed on the first points of a segment (a baseline) and
recalculated from a later point on (rebasing, e.g. at an initiative's start), each segment
judged by its own limits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

Direction = Literal["increase", "decrease", "neutral"]
XMR_LIMIT = 2.66  # 3 / d2 with d2 = 1.128 for moving ranges of two points
MR_SCREEN = 3.267  # D4 for ranges of two: the upper limit of the moving-range chart
RUN = 7


# --- the rules ---------------------------------------------------------------------------


def beyond_limits(values: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """Points above the upper or below the lower process limit."""
    out: np.ndarray = (values > upper) | (values < lower)
    return out


def run_one_side(side: np.ndarray, length: int = RUN) -> np.ndarray:
    """Every point of a run of at least `length` points with the same side (+1/-1) of the
    mean; a point on the mean (0) belongs to no run."""
    flags = np.zeros(side.size, dtype=bool)
    start = 0
    for i in range(1, side.size + 1):
        if i == side.size or side[i] != side[start] or side[i] == 0:
            if side[start] != 0 and i - start >= length:
                flags[start:i] = True
            start = i
    return flags


def trend(values: np.ndarray, length: int = RUN) -> np.ndarray:
    """Every point of `length` or more points in a row each higher (or each lower) than the
    point before; an equal neighbour breaks the trend."""
    step = np.sign(np.diff(values))
    flags = np.zeros(values.size, dtype=bool)
    start = 0  # index into step
    for i in range(1, step.size + 1):
        if i == step.size or step[i] != step[start] or step[i] == 0:
            if step[start] != 0 and i - start >= length - 1:
                flags[start : i + 1] = True
            start = i
    return flags


def two_in_three(side: np.ndarray, close: np.ndarray) -> np.ndarray:
    """Points between two and three sigma that are two (or three) of three points in a row
    lying beyond two sigma, with all three on the same side of the mean."""
    n = side.size
    flags = np.zeros(n, dtype=bool)
    for start in range(max(0, n - 2)):
        window = slice(start, start + 3)
        if close[window].sum() >= 2 and abs(side[window].sum()) == 3:
            flags[window] |= close[window]
    return flags


# --- charts ------------------------------------------------------------------------------


@dataclass(frozen=True)
class SpcChart:
    """A chart's points, limits and flags (arrays of one value per point)."""

    chart: Literal["xmr", "p"]
    x: list[Any]
    values: np.ndarray
    centre: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    segment: np.ndarray  # which rebased segment each point belongs to
    outside: np.ndarray
    run: np.ndarray
    trend: np.ndarray
    two_in_three: np.ndarray
    point_type: list[str]
    improvement: Direction
    variation_icon: str
    assurance_icon: str | None
    target: float | None
    milestones: list[tuple[Any, str]] = field(default_factory=list)

    @property
    def special(self) -> np.ndarray:
        out: np.ndarray = self.outside | self.run | self.trend | self.two_in_three
        return out

    def rows(self) -> list[dict[str, Any]]:
        """One dict per point, for export."""
        return [
            {
                "x": self.x[i],
                "value": float(self.values[i]),
                "centre": float(self.centre[i]),
                "lower": float(self.lower[i]),
                "upper": float(self.upper[i]),
                "segment": int(self.segment[i]),
                "outside_limits": bool(self.outside[i]),
                "run_of_seven": bool(self.run[i]),
                "trend_of_seven": bool(self.trend[i]),
                "two_in_three": bool(self.two_in_three[i]),
                "point_type": self.point_type[i],
            }
            for i in range(self.values.size)
        ]


def _segments(n: int, rebase_at: list[int]) -> np.ndarray:
    segment = np.zeros(n, dtype=np.int64)
    for index in sorted(set(rebase_at)):
        if not 0 < index < n:
            raise ValueError(f"rebase point {index} is not inside the series of {n} points")
        segment[index:] += 1
    return segment


def _point_types(side: np.ndarray, special: np.ndarray, improvement: Direction) -> list[str]:
    better = {"increase": 1, "decrease": -1, "neutral": 0}[improvement]
    types = []
    for s, flagged in zip(side, special, strict=True):
        if not flagged:
            types.append("common_cause")
        elif better == 0:
            types.append("special_cause_neutral_" + ("high" if s > 0 else "low"))
        elif s == better:
            types.append("special_cause_improvement")
        else:
            types.append("special_cause_concern")
    return types


def _variation_icon(last_type: str, last_side: float) -> str:
    """The Making Data Count variation icon of the latest point."""
    if last_type == "common_cause":
        return "common_cause"
    if last_type.startswith("special_cause_neutral"):
        return last_type.removeprefix("special_cause_")
    high = "high" if last_side > 0 else "low"
    return ("improvement_" if last_type == "special_cause_improvement" else "concern_") + high


def _assurance_icon(
    target: float | None, lower: float, upper: float, improvement: Direction
) -> str | None:
    """Will the process meet the target: consistently pass, fail, or hit and miss."""
    if target is None or improvement == "neutral":
        return None
    increasing = improvement == "increase"
    if target > upper:
        return "consistent_fail" if increasing else "consistent_pass"
    if target < lower:
        return "consistent_pass" if increasing else "consistent_fail"
    return "inconsistent"


def _finish(
    chart: Literal["xmr", "p"],
    x: list[Any],
    values: np.ndarray,
    centre: np.ndarray,
    sigma: np.ndarray,
    segment: np.ndarray,
    improvement: Direction,
    target: float | None,
    milestones: list[tuple[Any, str]],
) -> SpcChart:
    lower, upper = centre - 3 * sigma, centre + 3 * sigma
    if chart == "p":
        lower, upper = np.maximum(lower, 0.0), np.minimum(upper, 1.0)
    side = np.sign(values - centre)
    outside = beyond_limits(values, lower, upper)
    close = ~outside & ((values > centre + 2 * sigma) | (values < centre - 2 * sigma))
    run = np.zeros(values.size, dtype=bool)
    rising = np.zeros(values.size, dtype=bool)
    pattern = np.zeros(values.size, dtype=bool)
    for s in np.unique(segment):  # the rules look within a segment only
        part = segment == s
        run[part] = run_one_side(side[part])
        rising[part] = trend(values[part])
        pattern[part] = two_in_three(side[part], close[part])
    special = outside | run | rising | pattern
    types = _point_types(side, special, improvement)
    return SpcChart(
        chart, x, values, centre, lower, upper, segment, outside, run, rising, pattern,
        types, improvement, _variation_icon(types[-1], float(side[-1])),
        _assurance_icon(target, float(lower[-1]), float(upper[-1]), improvement),
        target, milestones,
    )  # fmt: skip


def xmr_chart(
    values: ArrayLike,
    x: list[Any] | None = None,
    *,
    improvement: Direction = "increase",
    baseline: int | None = None,
    rebase_at: list[int] | None = None,
    target: float | None = None,
    screen_outliers: bool = True,
    milestones: list[tuple[Any, str]] | None = None,
) -> SpcChart:
    """An XmR chart. `baseline`: limits from the first `baseline` points of each segment;
    `rebase_at`: indexes where a new segment (new limits) starts."""
    y = np.asarray(values, dtype=float)
    if y.size < 2:
        raise ValueError("an XmR chart needs at least two points")
    segment = _segments(y.size, rebase_at or [])
    centre = np.empty_like(y)
    sigma = np.empty_like(y)
    for s in np.unique(segment):
        part = np.flatnonzero(segment == s)
        fixed = y[part[: baseline or part.size]]
        mean = fixed.mean()
        mr = np.abs(np.diff(fixed))
        amr = mr.mean() if mr.size else 0.0
        if screen_outliers and mr.size:
            amr = mr[mr < MR_SCREEN * amr].mean() if np.any(mr < MR_SCREEN * amr) else amr
        centre[part] = mean
        sigma[part] = XMR_LIMIT * amr / 3
    return _finish(
        "xmr", list(x) if x is not None else list(range(y.size)), y, centre, sigma, segment,
        improvement, target, milestones or [],
    )  # fmt: skip


def p_chart(
    counts: ArrayLike,
    sizes: ArrayLike,
    x: list[Any] | None = None,
    *,
    improvement: Direction = "increase",
    baseline: int | None = None,
    rebase_at: list[int] | None = None,
    target: float | None = None,
    milestones: list[tuple[Any, str]] | None = None,
) -> SpcChart:
    """A p-chart of proportions counts/sizes, limits p-bar +/- 3 sqrt(p-bar (1 - p-bar) / n)."""
    k = np.asarray(counts, dtype=float)
    n = np.asarray(sizes, dtype=float)
    if k.shape != n.shape or k.size < 2 or np.any(n <= 0) or np.any((k < 0) | (k > n)):
        raise ValueError("a p-chart needs two or more points of 0 <= count <= size, size > 0")
    segment = _segments(k.size, rebase_at or [])
    centre = np.empty_like(k)
    for s in np.unique(segment):
        part = np.flatnonzero(segment == s)
        fixed = part[: baseline or part.size]
        centre[part] = k[fixed].sum() / n[fixed].sum()
    sigma = np.sqrt(centre * (1 - centre) / n)
    return _finish(
        "p", list(x) if x is not None else list(range(k.size)), k / n, centre, sigma, segment,
        improvement, target, milestones or [],
    )  # fmt: skip


def initiative_chart(monthly: Any, initiative_id: Any, *, rebase: bool = False) -> SpcChart:
    """The p-chart of an initiative's trust's monthly pulse, its start (the first month on or
    after it) marked as a milestone.

    By default the mean and limits are fixed on the months before the start (the baseline)
    and carried on after it, so a change the initiative brings shows as special-cause
    variation; with `rebase`, they are recalculated from the start on (once a change is
    established, Making Data Count's practice). `monthly` has initiative_id, month, n,
    positive and after_start (bool).
    """
    import polars as pl

    from sharedground.evaluation.tables import EvaluationInputError, as_polars

    frame = as_polars(
        monthly, "monthly", ["initiative_id", "month", "n", "positive", "after_start"]
    )
    rows = frame.filter(pl.col("initiative_id") == initiative_id).sort("month")
    if rows.height < 2:
        raise EvaluationInputError(
            f"initiative {initiative_id}: fewer than two months of pulse answers"
        )
    after = rows["after_start"].to_numpy()
    start = int(np.argmax(after)) if after.any() else None
    months = rows["month"].to_list()
    marks = [(months[start], "initiative starts")] if start is not None else []
    before = start if start is not None and start >= 2 else None
    return p_chart(
        rows["positive"].to_numpy(), rows["n"].to_numpy(), months,
        baseline=None if rebase else before,
        rebase_at=[before] if rebase and before is not None else [],
        milestones=marks,
    )  # fmt: skip
