"""The event-study chart: a kind's effect by waves since the start, with 95% intervals.

Points before the start (negative event times) are placebo effects: with parallel trends they
should sit near zero, and a pattern there warns that the trusts which started were already on
a different course. The chart marks the start and the zero line, so both can be read at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sharedground.report.charts import svg
from sharedground.report.charts.svg import Chart

LEFT = 56
TOP = 26
BOTTOM = 40
HEIGHT = 260
IMPROVE = "#0072B2"
BEFORE = "#888888"


def _fmt(value: float, scale: float) -> str:
    return f"{value * scale:+.1f}" if scale != 1 else f"{value:+.2f}"


def event_study_chart(
    chart_id: str,
    title: str,
    event: Sequence[Any],
    *,
    unit: str = "points",
    scale: float = 100.0,
) -> Chart:
    """`event`: estimates with `event_time`, `att`, `ci_low`, `ci_high` (did.Estimate or the
    JSON dicts of `sharedground evaluate`). `scale` turns shares into points (100)."""
    rows = [r for r in (_get(e) for e in event) if math.isfinite(r[1])]
    if not rows:
        raise ValueError("an event-study chart needs at least one estimate")
    lows = [r[2] for r in rows if math.isfinite(r[2])] + [0.0]
    highs = [r[3] for r in rows if math.isfinite(r[3])] + [0.0]
    y_min, y_max = min(lows) * 1.1, max(highs) * 1.1
    if y_max - y_min < 1e-9:
        y_min, y_max = y_min - 1, y_max + 1
    times = [r[0] for r in rows]
    t_min, t_max = min(times) - 0.5, max(times) + 0.5
    plot_w = svg.WIDTH - LEFT - 16
    plot_h = HEIGHT - TOP - BOTTOM

    def sx(t: float) -> float:
        return LEFT + (t - t_min) * plot_w / (t_max - t_min)

    def sy(v: float) -> float:
        return TOP + plot_h - (v - y_min) * plot_h / (y_max - y_min)

    parts = [
        svg.line(LEFT, sy(0), LEFT + plot_w, sy(0), svg.INK, 1),
        svg.line(sx(-0.5), TOP, sx(-0.5), TOP + plot_h, svg.INK, 0.8, "4,3"),
        svg.text(sx(-0.5) + 4, TOP + 10, "start", size=svg.SMALL),
        svg.line(LEFT, TOP, LEFT, TOP + plot_h, svg.INK, 0.8),
    ]
    for tick in _ticks(y_min, y_max):
        parts.append(svg.line(LEFT - 3, sy(tick), LEFT, sy(tick), svg.INK, 0.5))
        label = _fmt(tick, scale) if tick else "0"
        parts.append(svg.text(LEFT - 5, sy(tick) + 3, label, size=svg.SMALL, anchor="end"))
    for t in times:
        parts.append(svg.text(sx(t), TOP + plot_h + 13, str(t), size=svg.SMALL, anchor="middle"))
    parts.append(
        svg.text(
            LEFT + plot_w / 2,
            HEIGHT - 8,
            "Waves since the start (0: first wave after it)",
            size=svg.SMALL,
            anchor="middle",
        )
    )
    parts.append(svg.text(6, TOP - 10, f"Effect ({unit})", size=svg.SMALL))
    for t, att, low, high in rows:
        colour = IMPROVE if t >= 0 else BEFORE
        if math.isfinite(low) and math.isfinite(high):
            parts.append(svg.line(sx(t), sy(low), sx(t), sy(high), colour, 1.5))
        parts.append(svg.circle(sx(t), sy(att), 4, colour, svg.INK))
    after = [r for r in rows if r[0] >= 0]
    described = "; ".join(
        f"{t} wave(s) after: {_fmt(a, scale)} ({_fmt(lo, scale)} to {_fmt(hi, scale)})"
        for t, a, lo, hi in after
    )
    description = (
        f"Effect by waves since the start, in {unit}, with 95% intervals. Before the start the "
        f"estimates should be near zero. {described}."
    )
    table = [
        [str(t), _fmt(a, scale), f"{_fmt(lo, scale)} to {_fmt(hi, scale)}"] for t, a, lo, hi in rows
    ]
    return Chart(
        id=chart_id,
        kind="event_study",
        title=title,
        description=description,
        svg=svg.svg_document(chart_id, title, description, HEIGHT, "".join(parts)),
        data_header=["Waves since start", f"Effect ({unit})", "95% interval"],
        data_rows=table,
    )


def _get(e: Any) -> tuple[int, float, float, float]:
    if isinstance(e, dict):
        values = (e.get("event_time"), e.get("att"), e.get("ci_low"), e.get("ci_high"))
    else:
        values = (e.event_time, e.att, e.ci_low, e.ci_high)
    t, att, low, high = values
    nan = float("nan")
    if t is None:
        return (0, nan, nan, nan)  # not an event-time estimate: dropped by the caller
    return (
        int(t),
        nan if att is None else float(att),
        nan if low is None else float(low),
        nan if high is None else float(high),
    )


def _ticks(low: float, high: float) -> list[float]:
    span = high - low
    step = 10 ** math.floor(math.log10(span / 4)) if span > 0 else 1.0
    for mult in (1, 2, 5, 10):
        if span / (step * mult) <= 6:
            step *= mult
            break
    first = math.ceil(low / step) * step
    out = []
    value = first
    while value <= high + 1e-12:
        out.append(round(value, 10))
        value += step
    return out
