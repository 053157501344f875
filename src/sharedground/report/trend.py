"""The comparison with an earlier wave, from two analysis documents.

Rows are matched on (table, item, option, measure), per group and overall. The change is
in percentage points with a 95% confidence interval from the normal approximation to the
difference of two independent proportions, and p from the two-sided two-proportion z test
(pooled), which is the chi-squared test of the 2 × 2 table without continuity correction.

The published 2002 figures give only percentages; their denominators are taken to be the
2002 group sizes (Davies et al. 2003), which the methods section says.
"""

from __future__ import annotations

import math
from typing import Any

from scipy.stats import norm

from sharedground.reference import ROLES, group_sizes, published_2015
from sharedground.report.model import OVERALL, Comparison, TrendPoint, TrendRow

Z95 = 1.959963984540054


def difference(count1: int, n1: int, count0: int, n0: int) -> TrendPoint:
    """Now (1) against then (0): percentages, change in points, its 95% CI and p."""
    p1, p0 = count1 / n1, count0 / n0
    diff = p1 - p0
    se = math.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0)
    pooled = (count1 + count0) / (n1 + n0)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    p_value = 1.0 if se0 == 0 else float(2 * norm.sf(abs(diff) / se0))
    return TrendPoint(
        now=100 * p1,
        then=100 * p0,
        diff=100 * diff,
        ci_low=100 * (diff - Z95 * se),
        ci_high=100 * (diff + Z95 * se),
        p_value=p_value,
    )


def _key(
    table_id: str, row: dict[str, Any], occurrence: int
) -> tuple[str, str, str | None, str, int]:
    return (table_id, row["item"], row.get("option"), str(row.get("measure", "")), occurrence)


def _index(document: dict[str, Any]) -> dict[tuple[str, str, str | None, str, int], dict[str, Any]]:
    found = {}
    for table in document.get("tables", []):
        seen: dict[tuple[str, str | None, str], int] = {}
        for row in table["rows"]:
            pair = (row["item"], row.get("option"), str(row.get("measure", "")))
            found[_key(table["id"], row, seen.get(pair, 0))] = row
            seen[pair] = seen.get(pair, 0) + 1
    return found


def _point(now: dict[str, Any] | None, then: dict[str, Any] | None) -> TrendPoint | None:
    if not now or not then:
        return None
    if None in (now.get("count"), now.get("valid"), then.get("count"), then.get("valid")):
        return None
    if not now["valid"] or not then["valid"]:
        return None
    return difference(int(now["count"]), int(now["valid"]), int(then["count"]), int(then["valid"]))


def compare(now: dict[str, Any], then: dict[str, Any], label: str, source: str = "") -> Comparison:
    """The rows of `now` that `then` also has, with the change per group and overall."""
    earlier = _index(then)
    rows = []
    for table in now.get("tables", []):
        seen: dict[tuple[str, str | None, str], int] = {}
        for row in table["rows"]:
            pair = (row["item"], row.get("option"), str(row.get("measure", "")))
            key = _key(table["id"], row, seen.get(pair, 0))
            seen[pair] = seen.get(pair, 0) + 1
            old = earlier.get(key)
            if old is None or row.get("measure") == "distribution":
                continue
            points = {}
            for group, cell in row["groups"].items():
                point = _point(cell, old["groups"].get(group))
                if point is not None:
                    points[group] = point
            overall = _point(row.get("overall"), old.get("overall"))
            if overall is not None:
                points[OVERALL] = overall
            if points:
                rows.append(
                    TrendRow(table["id"], row["item"], row.get("option"), row["label"], points)
                )
    return Comparison(label, rows, source)


def published_2002(now: dict[str, Any]) -> dict[str, Any]:
    """The 2002 figures printed in the 2015 report, as an analysis document.

    Only rows with a figure for every group and overall are included; counts are the
    percentages applied to the 2002 group sizes.
    """
    sizes = group_sizes(2002)
    total = sum(sizes.values())
    measures = {
        (t["id"], i): r.get("measure")
        for t in now.get("tables", [])
        for i, r in enumerate(t["rows"])
    }
    tables = []
    for table in published_2015()["tables"]:
        if isinstance(table["rows"], dict):
            continue
        rows = []
        for index, row in enumerate(table["rows"]):
            y2002 = row.get("y2002") or {}
            if not all(k in y2002 for k in (*ROLES, "overall")):
                continue
            groups = {
                role: {"count": round(y2002[role] * sizes[role] / 100), "valid": sizes[role]}
                for role in ROLES
            }
            rows.append(
                {
                    "item": row["item"],
                    "option": row.get("option"),
                    "measure": measures.get((table["id"], index), "agree"),
                    "label": row["label"],
                    "groups": groups,
                    "overall": {"count": round(y2002["overall"] * total / 100), "valid": total},
                }
            )
        if rows:
            tables.append({"id": table["id"], "title": table["title"], "rows": rows})
    return {"wave": "2002 (published)", "tables": tables}


def published_2002_source() -> str:
    """How the published 2002 figures were used, for the report's trend section."""
    sizes = ", ".join(f"{role.replace('_', ' ')}s {n}" for role, n in group_sizes(2002).items())
    return (
        "2002 figures as published (Davies, Hodges and Rundall 2003, reprinted in Powell and "
        f"Davies 2016); their denominators are taken to be the 2002 group sizes ({sizes})."
    )
