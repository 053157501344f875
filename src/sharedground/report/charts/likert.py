"""Diverging stacked bars of Likert answers by group.

Disagreement extends left of the centre line and agreement right, each bar a group's
answers to one statement as a share of those who answered it ("don't know" excluded, as in
the tables). Reverse-worded statements are drawn in their reported wording, so agreement
always points the same way as the table's percentage.
"""

from __future__ import annotations

from sharedground.report.charts import svg
from sharedground.report.charts.svg import Chart
from sharedground.report.model import whole

#: Answer order from the far left to the far right.
ORDER = ("strongly_disagree", "tend_to_disagree", "tend_to_agree", "strongly_agree")
LABELS = ("Strongly disagree", "Tend to disagree", "Tend to agree", "Strongly agree")
_REVERSED = dict(zip(ORDER, reversed(ORDER), strict=True))

LABEL_W = 210
GROUP_W = 92
BAR_H = 11
BAR_GAP = 3
BLOCK_GAP = 10


def shares(counts: dict[str, int], reverse: bool) -> list[float] | None:
    """Percentages in ORDER (reported wording), or None when nobody answered."""
    if reverse:
        counts = {_REVERSED.get(k, k): v for k, v in counts.items()}
    values = [counts.get(k, 0) for k in ORDER]
    total = sum(values)
    if total == 0:
        return None
    return [100.0 * v / total for v in values]


def diverging(
    chart_id: str,
    title: str,
    statements: list[tuple[str, dict[str, list[float] | None]]],
    series: list[tuple[str, str]],
) -> Chart:
    """Build the chart.

    Args:
        chart_id: unique id.
        title: chart title.
        statements: (statement label, {series id: shares in ORDER or None}).
        series: (series id, label) pairs in drawing order (groups, then everyone).
    """
    top: float = 36
    centre = LABEL_W + GROUP_W + (svg.WIDTH - LABEL_W - GROUP_W - 10) / 2
    half = (svg.WIDTH - LABEL_W - GROUP_W - 10) / 2
    parts: list[str] = []
    legend, legend_h = svg.legend(LABEL_W, 12, list(zip(LABELS, svg.LIKERT_COLOURS, strict=True)))
    parts.append(legend)
    top = 12 + legend_h + 6
    y = top
    rows: list[list[str]] = []
    labels: list[svg.Label] = []
    marks = svg.Marks()
    for label, by_series in statements:
        block_h = len(series) * (BAR_H + BAR_GAP)
        labels.append(svg.Label(0, y, LABEL_W - 8, label))
        extra = max(0.0, svg.label_height(label, LABEL_W - 8) - block_h)
        for sid, slabel in series:
            values = by_series.get(sid)
            parts.append(
                svg.text(LABEL_W + GROUP_W - 6, y + BAR_H - 2, slabel, size=svg.SMALL, anchor="end")
            )
            if values is None:
                parts.append(
                    svg.text(centre, y + BAR_H - 2, "not shown", size=svg.SMALL, anchor="middle")
                )
                rows.append([f"{label} — {slabel}", *(["–"] * 4)])
            else:
                x = centre - (values[0] + values[1]) * half / 100
                for value, colour in zip(values, svg.LIKERT_COLOURS, strict=True):
                    width = value * half / 100
                    marks.rect(x, y, width, BAR_H, colour)
                    x += width
                rows.append([f"{label} — {slabel}", *(svg.pct(v) for v in values)])
            y += BAR_H + BAR_GAP
        y += BLOCK_GAP + extra
        parts.append(svg.line(0, y - BLOCK_GAP / 2, svg.WIDTH, y - BLOCK_GAP / 2, "#eeeeee"))
    parts.append(marks.svg())
    parts.append(svg.line(centre, top - 4, centre, y - BLOCK_GAP, svg.INK, 1))
    for tick in (-100, -50, 50, 100):
        x = centre + tick * half / 100
        parts.append(svg.line(x, top - 4, x, y - BLOCK_GAP, svg.GRID, 0.5, "2,2"))
        parts.append(svg.text(x, y + 2, f"{abs(tick)}%", size=svg.SMALL, anchor="middle"))
    parts.append(svg.text(centre, y + 2, "0", size=svg.SMALL, anchor="middle"))
    height = y + 10
    agree = [
        (label, sid, (v[2] + v[3]))
        for label, by in statements
        for sid, v in by.items()
        if v is not None
    ]
    description = (
        f"Diverging bars of answers to {len(statements)} statements: disagreement "
        "to the left of the centre line, agreement to the right, as shares of those answering."
    )
    if agree:
        top_row = max(agree, key=lambda a: a[2])
        low_row = min(agree, key=lambda a: a[2])
        names = dict(series)
        description += (
            f" Highest agreement: {names[top_row[1]]} on “{top_row[0]}” ({whole(top_row[2])}%);"
            f" lowest: {names[low_row[1]]} on “{low_row[0]}” ({whole(low_row[2])}%)."
        )
    return Chart(
        id=chart_id,
        kind="likert",
        title=title,
        description=description,
        svg=svg.svg_document(chart_id, title, description, height, "".join(parts)),
        data_header=["Statement — group", *LABELS],
        data_rows=rows,
        labels=labels,
    )
