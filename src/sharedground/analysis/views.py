"""Trends and benchmarks for the terminal (Rich) and as CSV; their JSON is `to_json()`."""

from __future__ import annotations

from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from sharedground.analysis.benchmark import Benchmarks
from sharedground.analysis.render import WITHHELD, cell_text, csv_text
from sharedground.analysis.results import half_up
from sharedground.analysis.trend import OVERALL, Trend, describe

_BAND_TEXT = {
    "above_998": "above 99.8%",
    "above_95": "above 95%",
    "within": "within",
    "below_95": "below 95%",
    "below_998": "below 99.8%",
}


def trend_tables(trend: Trend) -> RenderableType:
    """One Rich table per report table: then → now (difference, 95% CI) and stars."""
    parts: list[RenderableType] = []
    groups = [*trend.groups, OVERALL]
    current: Table | None = None
    table_id = None
    for row in trend.rows:
        if row.table != table_id:
            table_id = row.table
            current = Table(
                title=f"Table {row.table.removeprefix('table_')}: {trend.against} → {trend.wave}",
                title_justify="left",
            )
            current.add_column("", ratio=3, overflow="fold")
            for group in groups:
                current.add_column(group.replace("_", " "), justify="right")
            parts.append(current)
        assert current is not None
        current.add_row(row.label, *(describe(row.cells.get(g)) for g in groups))
    legend = Text()
    legend.append(
        "then → now (difference in points, 95% CI) and stars of the two-proportion test; "
        "≈ approximate (earlier count rebuilt from a rounded percentage).\n"
    )
    for note in trend.notes:
        legend.append(f"{note}\n", style="dim")
    parts.append(legend)
    return Group(*parts)


def trend_csv(trend: Trend) -> str:
    columns = [
        "table", "item", "option", "measure", "label", "group",
        "then_count", "then_valid", "then_pct", "now_count", "now_valid", "now_pct",
        "diff_points", "ci95_low", "ci95_high", "p_value", "approximate",
    ]  # fmt: skip
    lines: list[dict[str, Any]] = []
    for row in trend.rows:
        for group, change in row.cells.items():
            if change is None:
                continue
            lines.append(
                {
                    "table": row.table,
                    "item": row.item,
                    "option": row.option or "",
                    "measure": row.measure,
                    "label": row.label,
                    "group": group,
                    "then_count": change.then.count,
                    "then_valid": change.then.valid,
                    "then_pct": change.then.pct,
                    "now_count": change.now.count,
                    "now_valid": change.now.valid,
                    "now_pct": change.now.pct,
                    "diff_points": change.diff,
                    "ci95_low": change.ci_low,
                    "ci95_high": change.ci_high,
                    "p_value": change.p_value,
                    "approximate": change.approximate,
                }
            )
    return csv_text(columns, lines)


def benchmark_tables(benchmarks: Benchmarks, trust: str | None = None) -> RenderableType:
    """A summary of every trust, or (with `trust`) that trust row by row."""
    if trust is None:
        return _benchmark_summary(benchmarks)
    if trust not in benchmarks.trusts:
        known = ", ".join(list(benchmarks.trusts)[:20])
        raise ValueError(f"no trust {trust!r} in wave {benchmarks.wave} (trusts: {known} ...)")
    parts: list[RenderableType] = []
    for table in benchmarks.tables:
        out = Table(
            title=f"Table {table.id.removeprefix('table_')}: {table.title} — {trust}",
            title_justify="left",
        )
        for name in (
            "",
            trust,
            "Everyone else",
            "Difference (95% CI)",
            "vs rest",
            "Funnel",
            "Published",
        ):
            out.add_column(name, justify="left" if not name else "right")
        for row in table.rows:
            cell = row.trusts[trust]
            versus = cell.versus_rest
            published = "-" if row.published_pct is None else f"{half_up(row.published_pct)}%"
            if cell.versus_published:
                published += f" ({_BAND_TEXT[cell.versus_published]})"
            out.add_row(
                row.spec.label,
                cell_text(cell.cell),
                cell_text(versus.rest) if versus else WITHHELD,
                f"{half_up(versus.diff):+d} ({half_up(versus.ci_low)} to {half_up(versus.ci_high)})"
                if versus
                else "-",
                versus.flag if versus else "-",
                _BAND_TEXT.get(cell.funnel or "", "-"),
                published,
            )
        parts.append(out)
    parts.append(Text("\n".join(benchmarks.notes), style="dim"))
    return Group(*parts)


def _benchmark_summary(benchmarks: Benchmarks) -> RenderableType:
    out = Table(title=f"Trusts in wave {benchmarks.wave}", title_justify="left")
    for name in (
        "Trust",
        "Respondents",
        "Rows above the rest",
        "Rows below the rest",
        "Outside 99.8% limits",
        "Rows withheld",
    ):
        out.add_column(name, justify="right" if name != "Trust" else "left")
    for trust, respondents in benchmarks.trusts.items():
        above = below = outside = withheld = 0
        for table in benchmarks.tables:
            for row in table.rows:
                cell = row.trusts[trust]
                if cell.cell.suppressed:
                    withheld += 1
                    continue
                flag = cell.versus_rest.flag if cell.versus_rest else None
                above += flag == "above"
                below += flag == "below"
                outside += cell.funnel in ("above_998", "below_998")
        out.add_row(
            trust,
            WITHHELD if respondents is None else str(respondents),
            str(above), str(below), str(outside), str(withheld),
        )  # fmt: skip
    note = Text("\n".join(benchmarks.notes), style="dim")
    return Group(out, Text("Use --trust CODE for one trust row by row.\n"), note)


def benchmark_csv(benchmarks: Benchmarks) -> str:
    columns = [
        "table", "item", "option", "measure", "label", "trust", "count", "valid", "pct",
        "suppressed", "rest_count", "rest_valid", "diff_points", "ci95_low", "ci95_high",
        "p_value", "versus_rest", "funnel", "published_national_pct", "versus_published",
    ]  # fmt: skip
    lines: list[dict[str, Any]] = []
    for table in benchmarks.tables:
        for row in table.rows:
            for trust, cell in row.trusts.items():
                versus = cell.versus_rest
                pct = cell.cell.pct
                lines.append(
                    {
                        "table": table.id,
                        "item": row.spec.item,
                        "option": row.spec.option or "",
                        "measure": row.spec.measure,
                        "label": row.spec.label,
                        "trust": trust,
                        "count": cell.cell.count,
                        "valid": cell.cell.valid,
                        "pct": None if pct is None else pct,
                        "suppressed": cell.cell.suppressed,
                        "rest_count": versus.rest.count if versus else None,
                        "rest_valid": versus.rest.valid if versus else None,
                        "diff_points": versus.diff if versus else None,
                        "ci95_low": versus.ci_low if versus else None,
                        "ci95_high": versus.ci_high if versus else None,
                        "p_value": versus.p_value if versus else None,
                        "versus_rest": versus.flag if versus else None,
                        "funnel": cell.funnel,
                        "published_national_pct": row.published_pct,
                        "versus_published": cell.versus_published,
                    }
                )
    return csv_text(columns, lines)
