"""From a ReportInput to everything the templates print: tables, charts, key points, contents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sharedground.instrument import LikertItem
from sharedground.report import charts
from sharedground.report.charts import Chart
from sharedground.report.keypoints import KeyPoint, key_points, plural
from sharedground.report.methods import Methods, build_methods
from sharedground.report.model import (
    NATIONAL_CONTEXT,
    OVERALL,
    CommentSection,
    Comparison,
    Group,
    Initiatives,
    ReportInput,
    TrendRow,
    signed,
    whole,
)
from sharedground.report.tables import RowView, TableView, build_tables

#: Rows of table 2.1 drawn as funnel plots in order of preference (the key ratings).
FUNNEL_TITLE = "Funnel plot: {label}"


@dataclass
class TableBlock:
    table: TableView
    charts: list[Chart] = field(default_factory=list)


@dataclass
class TrendCell:
    text: str
    significant: bool
    change: str = ""


@dataclass
class TrendTableRow:
    label: str
    cells: list[TrendCell]
    ci: str
    p: str


@dataclass
class TrendSection:
    label: str
    source: str
    header: list[str]
    rows: list[TrendTableRow]
    charts: list[Chart]
    heading: str = ""
    #: Plain sentences before the table (what is compared with what).
    intro: list[str] = field(default_factory=list)
    #: How to read a cell, under the table.
    reading: str = ""
    #: Why nothing is compared, when there are no rows.
    unavailable: str = ""


@dataclass
class Contents:
    anchor: str
    title: str
    level: int


@dataclass
class Page:
    """The whole report, ready for `report.html`."""

    title: str
    subtitle: str
    generated: str
    trust: str | None
    groups: list[Group]
    hidden_groups: list[Group]
    key_points: list[KeyPoint]
    methods: Methods
    blocks: list[TableBlock]
    trend: TrendSection | None
    funnels: list[Chart]
    comments: list[CommentSection]
    contents: list[Contents]
    threshold: int
    initiatives: Initiatives | None = None
    #: The "What works" section (`report.evaluation_page.what_works_context`), when given.
    what_works: dict[str, Any] | None = None
    #: "What respondents said" (`sharedground.text.said.Said`), or None.
    said: Any = None

    @property
    def charts(self) -> list[Chart]:
        found = [c for b in self.blocks for c in b.charts]
        if self.trend:
            found += self.trend.charts
        found += self.funnels
        return found + (list(self.what_works["charts"]) if self.what_works else [])


def _series(groups: list[Group]) -> list[tuple[str, str]]:
    return [(g.id, g.label.replace(" (or similar)", "")) for g in groups] + [(OVERALL, "All")]


#: Series of a trust report's Likert charts: the trust against all the other trusts.
TRUST, OTHERS = "trust", "others"


def _likert_chart(table: TableView, data: ReportInput) -> Chart | None:
    """Diverging bars: by group (national report) or this trust against the others.

    A bar is drawn only where the table shows the figure: a withheld cell has no bar.
    """
    trust = data.trust is not None
    statements: list[tuple[str, dict[str, list[float] | None]]] = []
    for row in table.rows:
        item = data.instrument.item(row.item) if row.measure == "agree" else None
        if not isinstance(item, LikertItem) or row.item not in data.distributions:
            continue
        by_group = data.distributions[row.item]
        values: dict[str, list[float] | None] = {}
        if trust:
            own = by_group.get(TRUST, {})
            hidden = row.overall.suppressed
            values[TRUST] = None if hidden else charts.shares(own, item.reverse)
            # The other trusts are the nation less this trust: beside the national chart
            # their exact shares would give back the trust's withheld answers, so they go
            # with it.
            values[OTHERS] = (
                None if hidden else charts.shares(by_group.get(OTHERS, {}), item.reverse)
            )
        else:
            totals: dict[str, int] = {}
            for counts in by_group.values():
                for value, n in counts.items():
                    totals[value] = totals.get(value, 0) + n
            for group, cell in zip(table.groups, row.cells, strict=True):
                counts = by_group.get(group.id, {})
                values[group.id] = None if cell.suppressed else charts.shares(counts, item.reverse)
            values[OVERALL] = charts.shares(totals, item.reverse)
        statements.append((row.label, values))
    if not statements:
        return None
    if trust:
        series = [(TRUST, "This trust"), (OTHERS, "Other trusts")]
        title = f"Answers to the statements of table {table.number}: this trust and the others"
    else:
        series = _series(table.groups)
        title = f"Answers to the statements of table {table.number}, by group"
    return charts.diverging(f"chart-{table.anchor}-likert", title, statements, series)


def _bars_chart(table: TableView) -> Chart:
    rows: list[tuple[str, dict[str, float | None]]] = []
    series = _series(table.groups)
    if table.benchmark_labels:
        series = [*series[:-1], (OVERALL, "This trust"), (OTHERS, table.benchmark_labels[0])]
    for row in table.rows:
        values: dict[str, float | None] = {
            g.id: c.pct for g, c in zip(table.groups, row.cells, strict=True)
        }
        values[OVERALL] = row.overall.pct
        if row.benchmarks:
            values[OTHERS] = row.benchmarks[0].pct
        rows.append((row.label, values))
    what = "answering yes" if table.kind == "grid" else "choosing each option"
    return charts.grouped_bars(
        f"chart-{table.anchor}-bars",
        f"{table.title} (table {table.number}), by group",
        rows,
        series,
        what,
    )


def _table_charts(table: TableView, data: ReportInput) -> list[Chart]:
    if table.kind in ("chosen", "grid"):
        return [_bars_chart(table)]
    likert = _likert_chart(table, data)
    return [likert] if likert else []


def _trend_texts(data: ReportInput, comparison: Comparison) -> tuple[str, list[str], str]:
    """Heading, introduction and cell reading of the comparison section."""
    label, wave = comparison.label, data.wave
    tested = "* the change is statistically significant (p < 0.05)."
    approximate = any(p.approximate for r in comparison.rows for p in r.points.values())
    if comparison.scope == NATIONAL_CONTEXT:
        year = label.removesuffix(" (published)")
        intro = [
            f"Published figures for {year} exist only for the country as a whole: there are "
            f"none for this trust, so this report cannot show how the trust has changed since "
            f"{year}.",
            f"The table sets this trust's figures in wave {wave} beside the national figures "
            f"published for {year}, as national context only: a difference may come from the "
            "trust as much as from the years between.",
        ]
        reading = (
            f"Cells read: national percentage in {year} → this trust's percentage in wave "
            f"{wave} (difference in percentage points). * the trust's figure differs "
            "significantly from the national one (p < 0.05)."
        )
        if approximate:
            reading += (
                " ≈ the published count was rebuilt from a rounded percentage: no test is "
                "made there."
            )
        reading += " The last two columns are for everyone in this trust."
        return f"Beside the national figures of {label}", intro, reading
    if data.trust:
        intro = [
            f"This trust's answers in wave {wave} against its own answers in wave {label}, "
            f"for each group with at least {data.threshold} respondents in both waves, and "
            f"for everyone in the trust. Figures with fewer than {data.threshold} answers in "
            "either wave are withheld (–)."
        ]
        reading = (
            f"Cells read: percentage in {label} → percentage in {wave} (change in percentage "
            f"points). {tested} The last two columns are for everyone in this trust: the 95% "
            "confidence interval of the change in percentage points and its p-value."
        )
        return f"Change in this trust since {label}", intro, reading
    reading = (
        f"Cells read: percentage in {label} → percentage now (change in percentage points). "
        f"{tested} The last two columns are for all respondents: the 95% confidence interval "
        "of the change in percentage points and its p-value."
    )
    if approximate:
        reading += " ≈ the earlier count was rebuilt from a rounded published percentage."
    return f"Change since {label}", [], reading


def _trend(data: ReportInput, groups: list[Group]) -> TrendSection | None:
    comparison = data.comparison
    if comparison is None:
        return None
    if comparison.groups is not None:
        groups = [g for g in groups if g.id in comparison.groups]
    series = _series(groups)
    if data.trust:
        series[-1] = (OVERALL, "This trust")
    keys = [sid for sid, _ in series]
    rows: list[TrendTableRow] = []
    for row in comparison.rows:
        cells = []
        for key in keys:
            point = row.points.get(key)
            if point is None or point.now is None or point.then is None:
                cells.append(TrendCell("–", False))
                continue
            diff = point.diff if point.diff is not None else point.now - point.then
            mark = "*" if point.significant else ""
            mark += " ≈" if point.approximate else ""
            cells.append(
                TrendCell(
                    f"{whole(point.then)} → {whole(point.now)}",
                    point.significant,
                    f"({signed(diff)}{mark})",
                )
            )
        overall = row.points.get(OVERALL)
        ci = p = "–"
        if overall is not None and overall.ci_low is not None and overall.ci_high is not None:
            ci = f"{signed(overall.ci_low, 1)} to {signed(overall.ci_high, 1)}"
        if overall is not None and overall.p_value is not None:
            p = "< 0.001" if overall.p_value < 0.001 else f"{overall.p_value:.3f}"
        rows.append(TrendTableRow(row.label, cells, ci, p))
    by_table: dict[str, list[TrendRow]] = {}
    for row in comparison.rows:
        shown = TrendRow(
            row.table_id,
            row.item,
            row.option,
            row.label,
            {k: v for k, v in row.points.items() if k in keys},
        )
        by_table.setdefault(row.table_id, []).append(shown)
    context = comparison.scope == NATIONAL_CONTEXT
    then_label = f"National {comparison.label}" if context else comparison.label
    now_label = f"This trust, {data.wave}" if data.trust else data.wave
    dot_charts = [
        charts.then_now(
            f"chart-trend-{table_id.replace('.', '-')}",
            f"Table {table_id.removeprefix('table_')}: {then_label} and {now_label}",
            rows_of_table,
            series,
            then_label,
            now_label,
            what="difference" if context else "change",
        )
        for table_id, rows_of_table in by_table.items()
    ]
    who = "This trust" if data.trust else "All"
    header = [
        "Figure",
        *(label for _, label in series),
        f"{who}: 95% CI of {'difference' if context else 'change'}",
        f"{who}: p",
    ]
    heading, intro, reading = _trend_texts(data, comparison)
    return TrendSection(
        comparison.label,
        comparison.source,
        header,
        rows,
        dot_charts,
        heading=heading,
        intro=intro,
        reading=reading,
        unavailable=comparison.unavailable,
    )


def _funnels(data: ReportInput) -> list[Chart]:
    found = []
    for index, funnel in enumerate(data.funnels):
        points = [p for p in funnel.points if p.valid >= data.threshold]
        shown = type(funnel)(
            funnel.table_id,
            funnel.item,
            funnel.label,
            funnel.national_pct,
            points,
            funnel.highlight,
        )
        found.append(
            charts.funnel_chart(
                f"chart-funnel-{index + 1}", FUNNEL_TITLE.format(label=funnel.label), shown
            )
        )
    return found


def compose(data: ReportInput, *, generated: dt.date | None = None) -> Page:
    """Everything one report prints, from its input."""
    tables = build_tables(data)
    groups = data.shown_groups
    blocks = [TableBlock(t, _table_charts(t, data)) for t in tables]
    trend = _trend(data, groups)
    funnels = _funnels(data)
    if data.trust:
        name = data.trust_name or data.trust
        title = f"Doctor–manager relationships: {name}"
        subtitle = f"Trust report for wave {data.wave}, benchmarked against the other trusts"
    else:
        title = "Doctor–manager relationships in hospitals"
        subtitle = f"National report for wave {data.wave}"
    if data.comparison and data.comparison.scope == NATIONAL_CONTEXT:
        subtitle += f", with the national figures of {data.comparison.label} as context"
    elif data.comparison and not data.comparison.unavailable:
        subtitle += f", compared with {data.comparison.label}"
    contents = [
        Contents("key-points", "Key points", 1),
        Contents("methods", "Methods", 1),
        Contents("results", "Results", 1),
    ]
    contents += [
        Contents(b.table.anchor, f"Table {b.table.number}: {b.table.title}", 2) for b in blocks
    ]
    if data.initiatives is not None:
        heading = "Your initiatives" if data.trust else "Initiatives in the register"
        contents.append(Contents("initiatives", heading, 1))
    if trend:
        contents.append(Contents("trend", trend.heading, 1))
    if funnels:
        contents.append(Contents("benchmarks", "Trusts compared", 1))
    if data.said is not None:
        contents.append(Contents("said", "What respondents said", 1))
    if data.comments:
        contents.append(Contents("comments", "Comments", 1))
        contents += [
            Contents(f"comments-{c.id}", c.title + _question_suffix(c, data.comments), 2)
            for c in data.comments
        ]
    return Page(
        title=title,
        subtitle=subtitle,
        generated=(generated or dt.date.today()).strftime("%d %B %Y"),
        trust=data.trust,
        groups=groups,
        hidden_groups=[g for g in data.groups if not g.shown],
        key_points=key_points(tables, data.comparison, data.groups, trust=data.trust is not None),
        methods=build_methods(data, data.groups if not data.trust else groups),
        blocks=blocks,
        trend=trend,
        funnels=funnels,
        comments=data.comments,
        contents=contents,
        threshold=data.threshold,
        initiatives=data.initiatives,
        said=data.said,
    )


def _question_suffix(section: CommentSection, all_sections: list[CommentSection]) -> str:
    same = [c for c in all_sections if c.title == section.title]
    if len(same) < 2:
        return ""
    return f" ({same.index(section) + 1})"


def describe_groups(groups: list[Group]) -> str:
    """`chief executives, medical directors and clinical directors`."""
    names = [plural(g.label) for g in groups]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


__all__ = ["Page", "RowView", "compose", "describe_groups"]
