"""Grouped horizontal bar charts: barriers, factors and initiatives by group."""

from __future__ import annotations

from sharedground.report.charts import svg
from sharedground.report.charts.svg import Chart

LABEL_W = 230
BAR_H = 8
BAR_GAP = 1.5
BLOCK_GAP = 9


def grouped_bars(
    chart_id: str,
    title: str,
    rows: list[tuple[str, dict[str, float | None]]],
    series: list[tuple[str, str]],
    what: str = "choosing each option",
) -> Chart:
    """Build the chart.

    Args:
        chart_id: unique id.
        title: chart title.
        rows: (option label, {series id: percentage or None when suppressed}).
        series: (series id, label) pairs in drawing order.
        what: what the percentages count, for the description.
    """
    colours = {
        sid: svg.GROUP_COLOURS[i % len(svg.GROUP_COLOURS)] for i, (sid, _) in enumerate(series)
    }
    if "overall" in colours:
        colours["overall"] = svg.OVERALL_COLOUR
    if "others" in colours:
        colours["others"] = "#999999"
    legend, legend_h = svg.legend(LABEL_W, 12, [(label, colours[sid]) for sid, label in series])
    parts = [legend]
    top = 12 + legend_h + 4
    plot_w = svg.WIDTH - LABEL_W - 40
    y = top
    table_rows: list[list[str]] = []
    marks = svg.Marks()
    labels: list[svg.Label] = []
    for label, values in rows:
        block_h = len(series) * (BAR_H + BAR_GAP)
        labels.append(svg.Label(0, y, LABEL_W - 10, label))
        extra = max(0.0, svg.label_height(label, LABEL_W - 10) - block_h)
        for sid, _ in series:
            value = values.get(sid)
            if value is not None:
                width = value * plot_w / 100
                marks.rect(LABEL_W, y, width, BAR_H, colours[sid])
            y += BAR_H + BAR_GAP
        table_rows.append([label, *(svg.pct(values.get(sid)) for sid, _ in series)])
        y += BLOCK_GAP + extra
    parts.append(marks.svg())
    for tick in (0, 25, 50, 75, 100):
        x = LABEL_W + tick * plot_w / 100
        parts.append(
            svg.line(x, top - 2, x, y - BLOCK_GAP + 2, svg.GRID, 0.5, None if tick == 0 else "2,2")
        )
        parts.append(svg.text(x, y + 2, f"{tick}%", size=svg.SMALL, anchor="middle"))
    height = y + 10
    description = f"Bars show the percentage of each group {what}."
    overall = [(label, v.get("overall")) for label, v in rows if v.get("overall") is not None]
    if overall:
        ranked = sorted(overall, key=lambda r: -(r[1] or 0))
        description += (
            " Most often chosen overall: "
            + "; ".join(f"{label} ({svg.pct(v)})" for label, v in ranked[:3])
            + "."
        )
    return Chart(
        id=chart_id,
        kind="bars",
        title=title,
        description=description,
        svg=svg.svg_document(chart_id, title, description, height, "".join(parts)),
        data_header=["Option", *(label for _, label in series)],
        data_rows=table_rows,
        labels=labels,
    )
