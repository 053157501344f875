"""The comparison with an earlier wave, as the report prints it.

The figures come from the analysis engine (`sharedground.analysis.trend`): each row's
percentage now and then per group and overall, the change in points with its 95% interval
and p-value. This module only turns that result into the report's `Comparison`.
"""

from __future__ import annotations

from typing import Any

from sharedground.report.model import OVERALL, Comparison, TrendPoint, TrendRow


def from_analysis(trend: Any, label: str) -> Comparison:
    """The report's comparison from an analysis `Trend` (its rows and notes)."""
    rows = []
    for row in trend.rows:
        points = {}
        for group, change in row.cells.items():
            if change is None:
                continue
            points[OVERALL if group == "overall" else group] = TrendPoint(
                now=change.now.pct,
                then=change.then.pct,
                diff=change.diff,
                ci_low=change.ci_low,
                ci_high=change.ci_high,
                p_value=change.p_value,
            )
        if points:
            rows.append(TrendRow(row.table, row.item, row.option, row.label, points))
    notes = [n for n in trend.notes if n.startswith(("Earlier figures", "approximate", "2002"))]
    return Comparison(label, rows, " ".join(notes))
