"""Key points written from the figures: nothing here is typed by hand for a particular wave.

Each rule reads the (already suppressed) tables, so a trust report's key points never
mention a group that has no column.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sharedground.report.model import NATIONAL_CONTEXT, OVERALL, Comparison, Group, signed, whole
from sharedground.report.tables import REVERSE_MARK, RowView, TableView

#: Overall agreement at or above this is "widespread agreement", at or below 100 minus it
#: "widespread discontent".
WIDESPREAD = 70.0
KEY_RATING_TABLE = "table_2.1"
BARRIERS_TABLE = "table_2.8"
AGREEMENT_TABLES = ("table_2.2", "table_2.3", "table_2.4", "table_2.5", "table_2.6", "table_2.7")


@dataclass(frozen=True)
class KeyPoint:
    heading: str
    text: str


def plural(label: str) -> str:
    """`Directorate manager (or similar)` -> `directorate managers`."""
    base = re.sub(r"\s*\(.*?\)\s*", " ", label).strip()
    base = base[0].lower() + base[1:] if base else base
    return base if base.endswith("s") else base + "s"


def _statement(row: RowView) -> str:
    label = row.label.removesuffix(f" {REVERSE_MARK}")
    return label[0].lower() + label[1:] if label[:2] != label[:2].upper() else label


def _find(tables: list[TableView], table_id: str) -> TableView | None:
    return next((t for t in tables if t.id == table_id), None)


def most_least_positive(tables: list[TableView]) -> KeyPoint | None:
    """Which group rates local relationships best and worst, and the gap between them."""
    table = _find(tables, KEY_RATING_TABLE)
    if table is None or not table.rows:
        return None
    row = table.rows[0]
    figures = [
        (g, c.pct) for g, c in zip(table.groups, row.cells, strict=True) if c.pct is not None
    ]
    if len(figures) < 2:
        return None
    best = max(figures, key=lambda f: f[1] or 0)
    worst = min(figures, key=lambda f: f[1] or 0)
    assert best[1] is not None and worst[1] is not None
    gap = best[1] - worst[1]
    stars = f" (difference across groups: {row.test})" if row.test else ""
    return KeyPoint(
        "Most and least positive",
        f"{plural(best[0].label).capitalize()} were the most positive: {whole(best[1])}% gave "
        f"a positive rating for local doctor–manager relationships, against {whole(worst[1])}% of "
        f"{plural(worst[0].label)}, the least positive, a gap of {whole(gap)} percentage "
        f"points{stars}.",
    )


def largest_changes(
    comparison: Comparison | None, groups: list[Group], top: int = 3, *, trust: bool = False
) -> KeyPoint | None:
    """The largest statistically significant changes since the comparison wave.

    In a trust report: the trust's own changes, for the groups its trend shows (already
    limited to groups and cells above the suppression threshold in both waves). Against
    published figures, which exist only nationally, there is no change to report for a
    trust, and the key point says so.
    """
    if comparison is None:
        return None
    if comparison.scope == NATIONAL_CONTEXT:
        year = comparison.label.removesuffix(" (published)")
        return KeyPoint(
            f"Change since {year}",
            f"Published figures for {year} exist only for the country as a whole, so this "
            "report cannot say how this trust has changed; its figures are set beside the "
            "national ones as context only.",
        )
    where = " in this trust" if trust else ""
    if comparison.unavailable:
        return KeyPoint(f"Change{where} since {comparison.label}", comparison.unavailable)
    names = {
        g.id: plural(g.label)
        for g in groups
        if g.shown and (comparison.groups is None or g.id in comparison.groups)
    }
    names[OVERALL] = "all respondents here" if trust else "all respondents"
    changes = [
        (row, key, point)
        for row in comparison.rows
        for key, point in row.points.items()
        if key in names and point.significant and point.diff is not None
    ]
    if not changes:
        return KeyPoint(
            f"Change{where} since {comparison.label}",
            f"No difference{where} from {comparison.label} was statistically significant "
            "(p < 0.05).",
        )
    changes.sort(key=lambda c: -abs(c[2].diff or 0))
    parts = []
    for row, key, point in changes[:top]:
        direction = "rose" if (point.diff or 0) > 0 else "fell"
        ci = ""
        if point.ci_low is not None and point.ci_high is not None:
            ci = f"; 95% CI {signed(point.ci_low)} to {signed(point.ci_high)}"
        parts.append(
            f"among {names[key]}, “{_statement_text(row.label)}” {direction} from "
            f"{whole(point.then or 0)}% to {whole(point.now or 0)}% "
            f"({signed(point.diff or 0)} points{ci})"
        )
    return KeyPoint(
        f"Largest changes{where} since {comparison.label}",
        f"Of the statistically significant changes{where}, the largest: " + "; ".join(parts) + ".",
    )


def _statement_text(label: str) -> str:
    return label.removesuffix(f" {REVERSE_MARK}")


def widespread(tables: list[TableView], top: int = 3) -> list[KeyPoint]:
    """Statements with widespread agreement and with widespread discontent."""
    rows = [
        row
        for table in tables
        if table.id in AGREEMENT_TABLES
        for row in table.rows
        if row.overall.pct is not None
    ]
    points = []
    agreed = sorted(
        (r for r in rows if (r.overall.pct or 0) >= WIDESPREAD), key=lambda r: -(r.overall.pct or 0)
    )
    if agreed:
        points.append(
            KeyPoint(
                "Widespread agreement",
                "Most respondents agreed that "
                + "; that ".join(
                    f"{_statement(r)} ({whole(r.overall.pct or 0)}%)" for r in agreed[:top]
                )
                + ".",
            )
        )
    disagreed = sorted(
        (r for r in rows if (r.overall.pct or 0) <= 100 - WIDESPREAD),
        key=lambda r: r.overall.pct or 0,
    )
    if disagreed:
        points.append(
            KeyPoint(
                "Widespread discontent",
                "Few agreed that "
                + "; that ".join(
                    f"{_statement(r)} ({whole(r.overall.pct or 0)}%)" for r in disagreed[:top]
                )
                + ".",
            )
        )
    return points


def widest_divide(tables: list[TableView]) -> KeyPoint | None:
    """The statement on which the groups differ most (significant differences only)."""
    best: tuple[float, RowView, TableView] | None = None
    for table in tables:
        if table.id not in AGREEMENT_TABLES:
            continue
        for row in table.rows:
            values = [c.pct for c in row.cells if c.pct is not None]
            if len(values) < 2 or row.test in ("", "n.s."):
                continue
            spread = max(values) - min(values)
            if best is None or spread > best[0]:
                best = (spread, row, table)
    if best is None:
        return None
    spread, row, table = best
    cells = [(g, c.pct) for g, c in zip(table.groups, row.cells, strict=True) if c.pct is not None]
    high = max(cells, key=lambda c: c[1] or 0)
    low = min(cells, key=lambda c: c[1] or 0)
    return KeyPoint(
        "Widest divide",
        f"The groups differed most on whether {_statement(row)}: {whole(high[1])}% of "
        f"{plural(high[0].label)} agreed, against {whole(low[1])}% of {plural(low[0].label)} "
        f"({whole(spread)} points, {row.test}).",
    )


def top_barriers(tables: list[TableView], top: int = 3) -> KeyPoint | None:
    table = _find(tables, BARRIERS_TABLE)
    if table is None:
        return None
    rows = sorted(
        (r for r in table.rows if r.overall.pct is not None), key=lambda r: -(r.overall.pct or 0)
    )
    if not rows:
        return None
    return KeyPoint(
        "Top barriers",
        "The barriers to better relationships chosen most often were: "
        + "; ".join(
            f"{_statement_text(r.label).lower()} ({whole(r.overall.pct or 0)}%)" for r in rows[:top]
        )
        + ".",
    )


def trust_versus_rest(tables: list[TableView]) -> KeyPoint | None:
    """A trust report: this trust's key rating against the other trusts."""
    table = _find(tables, KEY_RATING_TABLE)
    if table is None or not table.rows or not table.benchmark_labels:
        return None
    row = table.rows[0]
    if row.overall.pct is None or not row.benchmarks or row.benchmarks[0].pct is None:
        return None
    other = row.benchmarks[0].pct
    diff = row.overall.pct - other
    word = "above" if diff > 0 else "below" if diff < 0 else "level with"
    return KeyPoint(
        "This trust against the others",
        f"{whole(row.overall.pct or 0)}% of respondents here rated local relationships positively, "
        f"{whole(abs(diff))} points {word} the {whole(other)}% of "
        f"{table.benchmark_labels[0].lower()}.",
    )


def key_points(
    tables: list[TableView],
    comparison: Comparison | None,
    groups: list[Group],
    *,
    trust: bool = False,
) -> list[KeyPoint]:
    """All key points that the data supports, in reading order."""
    found = [
        trust_versus_rest(tables),
        most_least_positive(tables),
        largest_changes(comparison, groups, trust=trust),
        *widespread(tables),
        widest_divide(tables),
        top_barriers(tables),
    ]
    return [p for p in found if p is not None]
