"""Writing an analysis out: Rich tables for the terminal, JSON, CSV and Excel."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson

from sharedground.analysis.results import Analysis, Cell, RowResult, TableResult, half_up
from sharedground.exchange.formulas import neutralise_row

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.table import Table

# Rich is imported by the functions that draw tables: JSON and CSV output do without it.

WITHHELD = "withheld"

CSV_COLUMNS = [
    "table",
    "table_title",
    "item",
    "option",
    "measure",
    "label",
    "denominator_rule",
    "group",
    "count",
    "valid",
    "pct",
    "suppressed",
    "test",
    "statistic",
    "df",
    "p_value",
    "stars",
    "q_value",
]


#: Columns added to the long form when the analysis is weighted.
WEIGHTED_COLUMNS = [
    "weighted_pct",
    "se",
    "ci_logit_low",
    "ci_logit_high",
    "ci_beta_low",
    "ci_beta_high",
    "weighted_count",
    "weighted_valid",
    "ndf",
    "ddf",
]


def weights_footnote(analysis: Analysis) -> str:
    """What every table says about its weights."""
    if analysis.weighting is None:
        return "Unweighted (as the published report)."
    w = analysis.weighting
    return (
        f"Weights: {w['kind']} (Kish design effect {w['design_effect']:.2f}, effective n "
        f"{w['effective_sample_size']:.0f}). Weighted % [95% CI, logit] with unweighted "
        "counts; tests Rao-Scott (RS)."
    )


def to_json_bytes(analysis: Analysis) -> bytes:
    """The analysis in the documented JSON layout (UTF-8, indented)."""
    return orjson.dumps(analysis.to_json(), option=orjson.OPT_INDENT_2)


def cell_text(cell: Cell) -> str:
    """`72% (42/58)`, `withheld`, or `-` when nobody answered."""
    if cell.suppressed:
        return WITHHELD
    pct = cell.pct
    if pct is None:
        return f"- (0/{cell.valid or 0})"
    w = cell.weighted
    if w is not None and w.pct is not None:
        ci = f" [{w.ci_logit[0]:.1f}–{w.ci_logit[1]:.1f}]" if w.ci_logit else ""
        return f"{w.pct:.1f}%{ci} ({cell.count}/{cell.valid})"
    return f"{half_up(pct)}% ({cell.count}/{cell.valid})"


def test_text(row: RowResult) -> str:
    """The stars, marked (F) when the exact test was used, with q when adjusted."""
    test = row.test
    if test.name == "none" or test.stars is None:
        return "-"
    mark = {"fisher": " (F)"}.get(test.name, " (RS)" if test.name.startswith("rao-") else "")
    text = test.stars + mark
    if row.q_value is not None:
        text += f" q={row.q_value:.3g}"
    return text


def rich_tables(analysis: Analysis) -> RenderableType:
    """One Rich table per report table, with the denominators and notes beneath."""
    from rich.console import Group
    from rich.table import Table
    from rich.text import Text

    parts: list[RenderableType] = []
    for table in analysis.tables:
        parts.append(_rich_table(analysis, table))
    for summary in analysis.summaries:
        box = Table(
            title=f"{summary.title} (threshold {summary.threshold:g}%)", title_justify="left"
        )
        box.add_column("Statement")
        box.add_column("%", justify="right")
        box.add_column("Table")
        for line in summary.lines:
            box.add_row(line.label, f"{half_up(line.pct)}%", line.table.removeprefix("table_"))
        parts.append(box)
    legend = Text()
    for rule, text in analysis.to_json()["denominators"].items():
        legend.append(f"{rule}: ", style="bold")
        legend.append(f"{text}\n")
    if analysis.weighting is None:
        legend.append("(F) exact Fisher–Freeman–Halton test; others Pearson chi-squared.\n")
    else:
        legend.append("(RS) Rao–Scott test of the weighted table (R's svychisq).\n")
        for note in analysis.weighting["notes"]:
            legend.append(f"{note}\n")
    for note in analysis.notes:
        legend.append(f"{note}\n", style="dim")
    parts.append(legend)
    return Group(*parts)


def _rich_table(analysis: Analysis, table: TableResult) -> Table:
    from rich.table import Table

    title = f"Table {table.id.removeprefix('table_')}: {table.title}"
    out = Table(title=title, title_justify="left", show_lines=False)
    out.add_column("", ratio=3, overflow="fold")
    for group in analysis.groups:
        n = "withheld" if group.respondents is None else str(group.respondents)
        out.add_column(f"{group.label}\n(n={n})", justify="right")
    out.add_column(f"Overall\n(n={analysis.respondents})", justify="right")
    out.add_column("Test", justify="left")
    for row in table.rows:
        label = row.spec.label
        if row.spec.reverse:
            label += " †"
        out.add_row(
            label,
            *(cell_text(row.groups[g.id]) for g in analysis.groups),
            cell_text(row.overall),
            test_text(row),
        )
    rules = sorted({r.spec.denominator_rule for r in table.rows})
    caption = f"Denominator: {', '.join(rules)}."
    if any(r.spec.reverse for r in table.rows):
        caption += " † reverse-scored: counts disagreement with the statement as asked."
    everyone = [r for r in table.rows if r.overall_all_respondents is not None]
    if everyone:
        figures = ", ".join(
            cell_text(r.overall_all_respondents) for r in everyone if r.overall_all_respondents
        )
        caption += f" Overall over everyone in the wave (the 2015 report's basis): {figures}."
    if analysis.weighting is not None:
        caption += " " + weights_footnote(analysis)
    out.caption = caption
    out.caption_justify = "left"
    return out


def csv_rows(analysis: Analysis) -> list[dict[str, Any]]:
    """The analysis in long form: one line per row and group (and `overall`)."""
    lines: list[dict[str, Any]] = []
    for table in analysis.tables:
        for row in table.rows:
            cells = [*row.groups.items(), ("overall", row.overall)]
            if row.overall_all_respondents is not None:
                cells.append(("overall_all_respondents", row.overall_all_respondents))
            for group, cell in cells:
                pct = cell.pct
                lines.append(
                    {
                        "table": table.id,
                        "table_title": table.title,
                        "item": row.spec.item,
                        "option": row.spec.option or "",
                        "measure": row.spec.measure,
                        "label": row.spec.label,
                        "denominator_rule": (
                            "all_respondents"
                            if group == "overall_all_respondents"
                            else row.spec.denominator_rule
                        ),
                        "group": group,
                        "count": cell.count,
                        "valid": cell.valid,
                        "pct": None if pct is None else pct,
                        "suppressed": cell.suppressed,
                        "test": row.test.name,
                        "statistic": row.test.statistic,
                        "df": row.test.df,
                        "p_value": row.test.p_value,
                        "stars": row.test.stars,
                        "q_value": row.q_value,
                    }
                    | (_weighted_columns(cell, row) if analysis.weighting is not None else {})
                )
    return lines


def _weighted_columns(cell: Cell, row: RowResult) -> dict[str, Any]:
    w = cell.weighted
    logit = w.ci_logit if w and w.ci_logit else (None, None)
    beta = w.ci_beta if w and w.ci_beta else (None, None)
    return {
        "weighted_pct": w.pct if w else None,
        "se": w.se if w else None,
        "ci_logit_low": logit[0],
        "ci_logit_high": logit[1],
        "ci_beta_low": beta[0],
        "ci_beta_high": beta[1],
        "weighted_count": w.weighted_count if w else None,
        "weighted_valid": w.weighted_valid if w else None,
        "ndf": row.test.ndf,
        "ddf": row.test.ddf,
    }


def columns(analysis: Analysis) -> list[str]:
    """The long form's columns (the weighted ones only when weighted)."""
    return CSV_COLUMNS + (WEIGHTED_COLUMNS if analysis.weighting is not None else [])


def to_csv_text(analysis: Analysis) -> str:
    return csv_text(columns(analysis), csv_rows(analysis))


def csv_text(columns: list[str], lines: list[dict[str, Any]]) -> str:
    """CSV with a header row; None is written as an empty cell, no cell as a formula."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, columns, lineterminator="\n")
    writer.writeheader()
    for line in lines:
        writer.writerow(neutralise_row(line))
    return buffer.getvalue()


def write_xlsx(analysis: Analysis, path: Path) -> None:
    """An Excel workbook: one sheet per table (wide, as printed) and one in long form."""
    import xlsxwriter

    with xlsxwriter.Workbook(str(path)) as book:
        bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        wrap = book.add_format({"text_wrap": True, "valign": "top"})
        pct = book.add_format({"num_format": "0.0"})
        for table in analysis.tables:
            sheet = book.add_worksheet(table.id.removeprefix("table_").replace(".", "_"))
            sheet.write(0, 0, f"{table.id}: {table.title}", bold)
            header = ["Row", "Denominator"]
            for group in [*analysis.groups, None]:
                name = group.label if group else "Overall"
                header += [f"{name} count", f"{name} valid", f"{name} %"]
            header += ["Test", "Statistic", "df", "p", "Stars", "q"]
            sheet.write_row(1, 0, header, bold)
            for r, row in enumerate(table.rows, start=2):
                sheet.write(r, 0, row.spec.label, wrap)
                sheet.write(r, 1, row.spec.denominator_rule)
                col = 2
                for cell in [*row.groups.values(), row.overall]:
                    if cell.suppressed:
                        sheet.write(r, col, WITHHELD)
                    else:
                        sheet.write(r, col, cell.count)
                        sheet.write(r, col + 1, cell.valid)
                        if cell.pct is not None:
                            sheet.write_number(r, col + 2, cell.pct, pct)
                    col += 3
                test = row.test
                sheet.write_row(
                    r,
                    col,
                    [test.name, test.statistic, test.df, test.p_value, test.stars, row.q_value],
                )
            sheet.set_column(0, 0, 60)
        long = book.add_worksheet("long")
        long.write_row(0, 0, columns(analysis), bold)
        for r, line in enumerate(csv_rows(analysis), start=1):
            long.write_row(r, 0, [line[c] for c in columns(analysis)])
        notes = book.add_worksheet("notes")
        data = analysis.to_json()
        lines = [
            f"Wave {analysis.wave} ({analysis.instrument}), by {analysis.by}, "
            f"generated {analysis.generated_at}",
            *(f"{k}: {v}" for k, v in data["denominators"].items()),
            *analysis.notes,
            weights_footnote(analysis),
            *(analysis.weighting["notes"] if analysis.weighting else []),
        ]
        for r, text in enumerate(lines):
            notes.write(r, 0, text)


def write(analysis: Analysis, fmt: str, out: Path) -> None:
    """Write the analysis as json, csv or xlsx to `out`."""
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "json":
        out.write_bytes(to_json_bytes(analysis))
    elif fmt == "csv":
        out.write_text(to_csv_text(analysis), encoding="utf-8")
    elif fmt == "xlsx":
        write_xlsx(analysis, out)
    else:
        raise ValueError(f"cannot write format {fmt!r} to a file; use json, csv or xlsx")
