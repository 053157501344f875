"""Dot plots of then versus now: one line per group from the earlier figure to the current."""

from __future__ import annotations

from sharedground.report.charts import svg
from sharedground.report.charts.svg import Chart
from sharedground.report.model import TrendRow

LABEL_W = 210
GROUP_W = 92
ROW_H = 13
BLOCK_GAP = 8


def then_now(
    chart_id: str,
    title: str,
    rows: list[TrendRow],
    series: list[tuple[str, str]],
    then_label: str,
    now_label: str,
    what: str = "change",
) -> Chart:
    """Hollow dot = comparison wave, filled dot = this wave; bold line = significant change.

    `what` names the gap between the dots: "change" (the same people, then and now) or
    "difference" (a trust beside national figures).
    """
    parts: list[str] = []
    lx = LABEL_W + GROUP_W
    parts.append(svg.circle(lx + 5, 9, 4, "#ffffff", svg.INK))
    parts.append(svg.text(lx + 14, 12, then_label, size=svg.SMALL))
    lx += 30 + len(then_label) * 5
    parts.append(svg.circle(lx + 5, 9, 4, svg.INK))
    parts.append(svg.text(lx + 14, 12, now_label, size=svg.SMALL))
    lx += 30 + len(now_label) * 5
    parts.append(svg.line(lx, 9, lx + 16, 9, svg.INK, 2.5))
    parts.append(svg.text(lx + 20, 12, f"significant {what} (p < 0.05)", size=svg.SMALL))
    top = 26
    plot_x = LABEL_W + GROUP_W
    plot_w = svg.WIDTH - plot_x - 12
    y: float = top
    table_rows: list[list[str]] = []
    colours = {
        sid: svg.GROUP_COLOURS[i % len(svg.GROUP_COLOURS)] for i, (sid, _) in enumerate(series)
    }
    colours["overall"] = svg.OVERALL_COLOUR
    labels: list[svg.Label] = []
    for row in rows:
        present = [(sid, label) for sid, label in series if sid in row.points]
        block_h = len(present) * ROW_H
        labels.append(svg.Label(0, y, LABEL_W - 8, row.label))
        extra = max(0.0, svg.label_height(row.label, LABEL_W - 8) - block_h)
        for sid, slabel in present:
            point = row.points[sid]
            cy = y + ROW_H / 2
            parts.append(svg.text(plot_x - 6, cy + 3, slabel, size=svg.SMALL, anchor="end"))
            parts.append(svg.line(plot_x, cy, plot_x + plot_w, cy, "#f0f0f0", 0.5))
            if point.then is not None and point.now is not None:
                x1 = plot_x + point.then * plot_w / 100
                x2 = plot_x + point.now * plot_w / 100
                parts.append(
                    svg.line(x1, cy, x2, cy, colours[sid], 2.5 if point.significant else 1)
                )
            if point.then is not None:
                parts.append(
                    svg.circle(
                        plot_x + point.then * plot_w / 100,
                        cy,
                        3.5,
                        "#ffffff",
                        colours[sid],
                        f"{slabel} {then_label}: {svg.pct(point.then)}",
                    )
                )
            if point.now is not None:
                parts.append(
                    svg.circle(
                        plot_x + point.now * plot_w / 100,
                        cy,
                        3.5,
                        colours[sid],
                        None,
                        f"{slabel} {now_label}: {svg.pct(point.now)}",
                    )
                )
            change = "–" if point.diff is None else f"{point.diff:+.0f}"
            table_rows.append(
                [f"{row.label} — {slabel}", svg.pct(point.then), svg.pct(point.now), change]
            )
            y += ROW_H
        y += BLOCK_GAP + extra
    for tick in (0, 25, 50, 75, 100):
        x = plot_x + tick * plot_w / 100
        parts.append(svg.line(x, top - 2, x, y - BLOCK_GAP, svg.GRID, 0.5, "2,2"))
        parts.append(svg.text(x, y + 4, f"{tick}%", size=svg.SMALL, anchor="middle"))
    height = y + 12
    significant = [
        (row.label, row.points["overall"])
        for row in rows
        if "overall" in row.points and row.points["overall"].significant
    ]
    description = (
        f"Dot plot of {len(rows)} figure{'' if len(rows) == 1 else 's'} in {then_label} "
        f"(hollow dots) and {now_label} (filled dots) by group."
    )
    if significant:
        label, point = max(significant, key=lambda s: abs(s[1].diff or 0))
        description += (
            f" Largest significant {what} overall: “{label}”, {svg.pct(point.then)} to "
            f"{svg.pct(point.now)}."
        )
    return Chart(
        id=chart_id,
        kind="dots",
        title=title,
        description=description,
        svg=svg.svg_document(chart_id, title, description, height, "".join(parts)),
        data_header=["Figure — group", then_label, now_label, f"{what.capitalize()} (points)"],
        data_rows=table_rows,
        labels=labels,
    )
