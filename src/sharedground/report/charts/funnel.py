"""Funnel plots: each trust's proportion against its number of answers.

The control limits are the national proportion ± z·√(p(1−p)/n) for z = 1.96 (95%) and
3.09 (99.8%), the usual choice for comparing institutions (Spiegelhalter 2005); a trust
outside the 99.8% limits differs by more than chance would readily explain.
"""

from __future__ import annotations

import math

from sharedground.report.charts import svg
from sharedground.report.charts.svg import Chart
from sharedground.report.model import Funnel, FunnelPoint

Z95 = 1.959964
Z998 = 3.090232

LEFT = 46
BOTTOM = 34
HEIGHT = 300


def limits(p: float, n: float, z: float) -> tuple[float, float]:
    """Lower and upper control limits (proportions, clipped to [0, 1]) for `n` answers."""
    half = z * math.sqrt(p * (1 - p) / n)
    return max(0.0, p - half), min(1.0, p + half)


_BANDS = {
    "above_998": "above",
    "below_998": "below",
    "above_95": "warn-above",
    "below_95": "warn-below",
    "within": "within",
}


def position(p: float, point: FunnelPoint) -> str:
    """The analysis engine's band for the point, else the normal approximation's."""
    if point.band in _BANDS:
        return _BANDS[point.band]
    return classify(p, point.count, point.valid)


def classify(p: float, count: int, valid: int) -> str:
    """`above`/`below` the 99.8% limits, `warn-above`/`warn-below` the 95%, else `within`."""
    value = count / valid
    low998, high998 = limits(p, valid, Z998)
    low95, high95 = limits(p, valid, Z95)
    if value > high998:
        return "above"
    if value < low998:
        return "below"
    if value > high95:
        return "warn-above"
    if value < low95:
        return "warn-below"
    return "within"


def funnel_chart(chart_id: str, title: str, funnel: Funnel) -> Chart:
    """Build one funnel plot; the highlighted trust is drawn large and labelled."""
    p = funnel.national_pct / 100
    points = funnel.points
    max_n = max([pt.valid for pt in points] + [10])
    x_max = _nice(max_n * 1.05)
    plot_w = svg.WIDTH - LEFT - 16
    plot_h = HEIGHT - BOTTOM - 30
    top = 24

    def sx(n: float) -> float:
        return LEFT + n * plot_w / x_max

    def sy(pct: float) -> float:
        return top + plot_h - pct * plot_h / 100

    parts: list[str] = []
    parts.append(_legend(funnel.highlight is not None))
    for tick in range(0, 101, 25):
        parts.append(svg.line(LEFT, sy(tick), LEFT + plot_w, sy(tick), "#eeeeee", 0.5))
        parts.append(svg.text(LEFT - 4, sy(tick) + 3, f"{tick}%", size=svg.SMALL, anchor="end"))
    for tick in _ticks(x_max):
        parts.append(svg.line(sx(tick), top + plot_h, sx(tick), top + plot_h + 3, svg.INK, 0.5))
        parts.append(
            svg.text(sx(tick), top + plot_h + 13, f"{tick:,}", size=svg.SMALL, anchor="middle")
        )
    parts.append(
        svg.text(
            LEFT + plot_w / 2,
            HEIGHT - 6,
            "Number answering in the trust",
            size=svg.SMALL,
            anchor="middle",
        )
    )
    parts.append(svg.line(LEFT, top + plot_h, LEFT + plot_w, top + plot_h, svg.INK, 0.8))
    parts.append(
        svg.line(LEFT, sy(funnel.national_pct), LEFT + plot_w, sy(funnel.national_pct), svg.INK, 1)
    )
    if funnel.limits:
        # The analysis engine's limits, tabulated at a spread of denominators.
        ns = [row[0] for row in funnel.limits]
        bands = [
            ([r[1] for r in funnel.limits], [r[2] for r in funnel.limits], "#888888", "4,3"),
            ([r[3] for r in funnel.limits], [r[4] for r in funnel.limits], "#555555", None),
        ]
        for low, high, colour, dash in bands:
            parts.append(
                svg.polyline(
                    [(sx(n), sy(v)) for n, v in zip(ns, low, strict=True)], colour, 1, dash
                )
            )
            parts.append(
                svg.polyline(
                    [(sx(n), sy(v)) for n, v in zip(ns, high, strict=True)], colour, 1, dash
                )
            )
    else:
        steps = [max(2.0, x_max * i / 120) for i in range(1, 121)]
        for z, colour, dash in ((Z95, "#888888", "4,3"), (Z998, "#555555", None)):
            lower = [(sx(n), sy(100 * limits(p, n, z)[0])) for n in steps]
            upper = [(sx(n), sy(100 * limits(p, n, z)[1])) for n in steps]
            parts.append(svg.polyline(lower, colour, 1, dash))
            parts.append(svg.polyline(upper, colour, 1, dash))
    outside = 0
    own = None
    centres = []
    for pt in points:
        where = position(p, pt)
        outside += where in ("above", "below")
        if pt.trust == funnel.highlight:
            own = (pt, where)
            continue
        centres.append((sx(pt.valid), sy(pt.pct)))
    parts.append(svg.dots(centres, 2.6, "#56B4E9", "#1f6f9f"))
    if own is not None:
        pt, where = own
        parts.append(
            svg.circle(
                sx(pt.valid),
                sy(pt.pct),
                5,
                "#D55E00",
                svg.INK,
                f"This trust: {svg.pct(pt.pct)} of {pt.valid}",
            )
        )
        parts.append(
            svg.text(sx(pt.valid) + 8, sy(pt.pct) - 6, "This trust", size=svg.SMALL, weight="bold")
        )
    description = (
        f"Funnel plot of {len(points)} trusts: the percentage in each trust against the number "
        f"answering, with the national figure ({svg.pct(funnel.national_pct)}) and its 95% and "
        f"99.8% control limits. {outside} {'trust lies' if outside == 1 else 'trusts lie'} "
        "outside the 99.8% limits."
    )
    if own is not None:
        pt, where = own
        description += f" This trust: {svg.pct(pt.pct)} of {pt.valid}, {_WHERE[where]}."
    rows = [
        [
            pt.trust
            if funnel.highlight is None or pt.trust == funnel.highlight
            else "another trust",
            f"{pt.valid:,}",
            svg.pct(pt.pct),
            _WHERE[position(p, pt)],
        ]
        for pt in sorted(points, key=lambda q: q.valid)
    ]
    return Chart(
        id=chart_id,
        kind="funnel",
        title=title,
        description=description,
        svg=svg.svg_document(chart_id, title, description, HEIGHT, "".join(parts)),
        data_header=["Trust", "Answering", "Percentage", "Position"],
        data_rows=rows,
    )


def _legend(highlight: bool) -> str:
    parts = [
        svg.line(LEFT, 9, LEFT + 18, 9, svg.INK, 1),
        svg.text(LEFT + 22, 12, "national proportion", size=svg.SMALL),
        svg.line(LEFT + 130, 9, LEFT + 148, 9, "#888888", 1, "4,3"),
        svg.text(LEFT + 152, 12, "95% limits", size=svg.SMALL),
        svg.line(LEFT + 220, 9, LEFT + 238, 9, "#555555", 1),
        svg.text(LEFT + 242, 12, "99.8% limits", size=svg.SMALL),
        svg.circle(LEFT + 318, 9, 2.6, "#56B4E9", "#1f6f9f"),
        svg.text(LEFT + 325, 12, "a trust", size=svg.SMALL),
    ]
    if highlight:
        parts.append(svg.circle(LEFT + 380, 9, 5, "#D55E00", svg.INK))
        parts.append(svg.text(LEFT + 389, 12, "this trust", size=svg.SMALL))
    return "".join(parts)


_WHERE = {
    "above": "above the 99.8% limit",
    "below": "below the 99.8% limit",
    "warn-above": "above the 95% limit",
    "warn-below": "below the 95% limit",
    "within": "within the limits",
}


def _nice(value: float) -> int:
    magnitude = 10 ** math.floor(math.log10(max(value, 1)))
    for step in (1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    return int(10 * magnitude)


def _ticks(x_max: int) -> list[int]:
    step = x_max / 5
    return [round(step * i) for i in range(6)]
