"""SPC charts (XmR, p) as drawn by Making Data Count: grey points for common-cause variation,
blue for special-cause improvement, orange for concern, the mean and process limits of each
segment, the initiative's milestones marked, and the variation (and assurance) icon named in
words at the top right rather than as a picture (so it reads in print and to a screen reader).
"""

from __future__ import annotations

import math
from typing import Any

from sharedground.report.charts import svg
from sharedground.report.charts.svg import Chart

LEFT = 50
TOP = 30
BOTTOM = 40
HEIGHT = 260
COLOURS = {
    "common_cause": "#A6A6A6",
    "special_cause_improvement": "#489FDF",
    "special_cause_concern": "#FFB366",
    "special_cause_neutral_high": "#7B5D9A",
    "special_cause_neutral_low": "#7B5D9A",
}
ICON_WORDS = {
    "common_cause": "common cause variation",
    "improvement_high": "special cause: improvement (high)",
    "improvement_low": "special cause: improvement (low)",
    "concern_high": "special cause: concern (high)",
    "concern_low": "special cause: concern (low)",
    "neutral_high": "special cause (high)",
    "neutral_low": "special cause (low)",
    "consistent_pass": "will consistently meet the target",
    "consistent_fail": "will consistently miss the target",
    "inconsistent": "will hit and miss the target",
}


def spc_chart(chart_id: str, title: str, chart: Any, *, percent: bool = True) -> Chart:
    """Draw an `evaluation.spc.SpcChart`."""
    values = [float(v) for v in chart.values]
    n = len(values)
    scale = 100.0 if percent else 1.0
    finite = [v for v in list(chart.lower) + list(chart.upper) + values if math.isfinite(v)]
    y_min, y_max = float(min(finite)), float(max(finite))
    pad = (y_max - y_min) * 0.08 or 1.0
    y_min, y_max = y_min - pad, y_max + pad
    plot_w = svg.WIDTH - LEFT - 16
    plot_h = HEIGHT - TOP - BOTTOM

    def sx(i: float) -> float:
        return LEFT + (i + 0.5) * plot_w / n

    def sy(v: float) -> float:
        return TOP + plot_h - (v - y_min) * plot_h / (y_max - y_min)

    parts = [svg.line(LEFT, TOP + plot_h, LEFT + plot_w, TOP + plot_h, svg.INK, 0.8)]
    for seg in sorted(set(int(s) for s in chart.segment)):
        idx = [i for i in range(n) if int(chart.segment[i]) == seg]
        first, last = idx[0] - 0.5, idx[-1] + 0.5
        centre = float(chart.centre[idx[0]])
        parts.append(svg.line(sx(first), sy(centre), sx(last), sy(centre), svg.INK, 1))
        for bound in (chart.lower, chart.upper):
            pts = [(sx(i), sy(float(bound[i]))) for i in idx]
            pts = [(sx(first), pts[0][1]), *pts, (sx(last), pts[-1][1])]
            parts.append(svg.polyline(pts, "#555555", 1, "4,3"))
    parts.append(svg.polyline([(sx(i), sy(v)) for i, v in enumerate(values)], "#777777", 1))
    for i, v in enumerate(values):
        parts.append(svg.circle(sx(i), sy(v), 3.2, COLOURS.get(chart.point_type[i], "#A6A6A6")))
    for x, label in chart.milestones:
        if x in chart.x:
            i = chart.x.index(x)
            parts.append(svg.line(sx(i - 0.5), TOP, sx(i - 0.5), TOP + plot_h, "#D55E00", 1.2))
            parts.append(svg.text(sx(i - 0.5) + 3, TOP + 9, label, size=svg.SMALL, fill="#D55E00"))
    for frac in (0.0, 0.5, 1.0):
        v = y_min + pad + frac * (y_max - y_min - 2 * pad)
        label = f"{v * scale:.0f}%" if percent else f"{v:.2f}"
        parts.append(svg.text(LEFT - 4, sy(v) + 3, label, size=svg.SMALL, anchor="end"))
    step = max(1, n // 6)
    for i in range(0, n, step):
        parts.append(
            svg.text(sx(i), TOP + plot_h + 13, str(chart.x[i]), size=svg.SMALL, anchor="middle")
        )
    icons = [ICON_WORDS.get(chart.variation_icon, chart.variation_icon)]
    if chart.assurance_icon:
        icons.append(ICON_WORDS.get(chart.assurance_icon, chart.assurance_icon))
    parts.append(
        svg.text(svg.WIDTH - 16, 12, "; ".join(icons), size=svg.SMALL, anchor="end", weight="bold")
    )
    special = sum(1 for t in chart.point_type if t != "common_cause")
    kind = "p-chart" if chart.chart == "p" else "XmR chart"
    description = (
        f"{kind} of {n} points with the mean and process limits"
        + (
            f", recalculated at {len(set(chart.segment.tolist())) - 1} point(s)"
            if chart.segment.max()
            else ""
        )
        + f". {special} point(s) show special-cause variation. Latest point: {icons[0]}."
    )
    for x, label in chart.milestones:
        description += f" {label.capitalize()}: {x}."
    rows = [
        [
            str(chart.x[i]),
            f"{values[i] * scale:.1f}" + ("%" if percent else ""),
            f"{float(chart.lower[i]) * scale:.1f} to {float(chart.upper[i]) * scale:.1f}",
            chart.point_type[i].replace("_", " "),
        ]
        for i in range(n)
    ]
    return Chart(
        id=chart_id,
        kind="spc",
        title=title,
        description=description,
        svg=svg.svg_document(chart_id, title, description, HEIGHT, "".join(parts)),
        data_header=["Point", "Value", "Process limits", "Variation"],
        data_rows=rows,
    )
