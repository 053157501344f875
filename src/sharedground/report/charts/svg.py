"""Small SVG building blocks shared by the report's charts.

The charts are hand-built SVG rather than a plotting library's output: every mark is a
plain element with real text, so the HTML carries accessible text (role="img", <title>,
<desc>) and WeasyPrint draws the same markup as vectors in the PDF; nothing is rasterised
and no font files have to be embedded. Building ~100 small charts also costs milliseconds,
which matters for 200 trust reports.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

from sharedground.report.model import whole

#: Drawing width in CSS pixels: the A4 text block (174 mm) is about 657 px wide.
WIDTH = 640
FONT = "DejaVu Sans, sans-serif"
FONT_SIZE = 10
SMALL = 8.5
#: Average advance of a character of the chart font, as a share of its size (for wrapping).
CHAR_WIDTH = 0.56

#: Okabe–Ito colours: distinguishable with the common colour-vision deficiencies.
GROUP_COLOURS = ("#E69F00", "#56B4E9", "#009E73", "#CC79A7", "#0072B2", "#D55E00")
OVERALL_COLOUR = "#333333"
#: Diverging scale for strongly disagree … strongly agree (ColorBrewer RdBu, 4 classes).
LIKERT_COLOURS = ("#ca0020", "#f4a582", "#92c5de", "#0571b0")
INK = "#222222"
GRID = "#bbbbbb"


#: Line height of the chart labels set in HTML (CSS px, as the SVG's units).
LABEL_LINE = 10.5


@dataclass(frozen=True)
class Label:
    """A long row label set as HTML over the chart, at SVG coordinates (px).

    WeasyPrint lays out SVG text one letter at a time (each its own Pango layout), which
    made row labels a quarter of a report's rendering time; as HTML over the drawing they
    cost a line layout each, and wrap by themselves.
    """

    x: float
    y: float
    width: float
    text: str


def label_height(text: str, width: float) -> float:
    """The height a label takes when set at `width` (approximate metrics, as `wrap`)."""
    return len(wrap(text, width, size=SMALL + 0.5, max_lines=8)) * LABEL_LINE


@dataclass
class Chart:
    """A chart ready for the `_chart.html` template.

    Attributes:
        id: unique within the report (used for aria ids and the contents list).
        title: short title, also the SVG <title>.
        description: a sentence or two saying what the chart shows (SVG <desc>, caption).
        svg: the SVG markup.
        data_header: header cells of the text-alternative table.
        data_rows: its rows (first cell is the row header).
    """

    id: str
    kind: str
    title: str
    description: str
    svg: Markup
    data_header: list[str] = field(default_factory=list)
    data_rows: list[list[str]] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    width: int = WIDTH


def wrap(text: str, width_px: float, size: float = FONT_SIZE, max_lines: int = 4) -> list[str]:
    """Break `text` into lines that fit `width_px` at font `size` (approximate metrics)."""
    chars = max(8, int(width_px / (size * CHAR_WIDTH)))
    lines = textwrap.wrap(text, chars) or [""]
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        lines[-1] = lines[-1][: max(1, chars - 1)].rstrip() + "…"
    return lines


def text(
    x: float,
    y: float,
    content: str,
    *,
    size: float = FONT_SIZE,
    anchor: str = "start",
    weight: str = "normal",
    fill: str = INK,
) -> str:
    """A <text> element (content escaped)."""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'font-weight="{weight}" fill="{fill}">{escape(content)}</text>'
    )


def lines_text(
    x: float, y: float, lines: Sequence[str], *, size: float = FONT_SIZE, anchor: str = "start"
) -> str:
    """Several lines of text, the first baseline at `y`."""
    spans = "".join(
        f'<tspan x="{x:.1f}" dy="{0 if i == 0 else size * 1.2:.1f}">{escape(line)}</tspan>'
        for i, line in enumerate(lines)
    )
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" '
        f'fill="{INK}">{spans}</text>'
    )


def rect(x: float, y: float, w: float, h: float, fill: str, label: str | None = None) -> str:
    """A filled rectangle.

    `label` is accepted for the caller's documentation but not drawn: per-mark tooltips
    cost WeasyPrint time on every chart, and the figures are in the chart's data table.
    """
    del label
    return f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w, 0):.1f}" height="{h:.1f}" fill="{fill}"/>'


class Marks:
    """Many same-coloured rectangles drawn as one <path> per colour.

    One path with many sub-paths draws exactly what many <rect> elements would, at a
    fraction of WeasyPrint's cost per element (a trust report has ~1,500 such marks).
    """

    def __init__(self) -> None:
        self._paths: dict[str, list[str]] = {}

    def rect(self, x: float, y: float, w: float, h: float, fill: str) -> None:
        if w <= 0:
            return
        self._paths.setdefault(fill, []).append(f"M{x:.1f} {y:.1f}h{w:.1f}v{h:.1f}h{-w:.1f}z")

    def svg(self) -> str:
        return "".join(
            f'<path d="{"".join(segments)}" fill="{fill}"/>'
            for fill, segments in self._paths.items()
        )


def dots(centres: Sequence[tuple[float, float]], r: float, fill: str, stroke: str) -> str:
    """Outlined dots (radius `r`, a 1 px outline) at `centres`, later ones drawn on top.

    Each dot is a zero-length sub-path ("M x y h0") that a round line cap turns into a disc:
    two tokens a dot where a circle takes two arcs, which WeasyPrint turns into curves in
    Python (a funnel plot's 200 dots cost more than the rest of the chart). A dark disc
    under a light one makes the outline. Dots are dealt into layers in which none overlap,
    each layer drawn outline then fill, so overlapping dots stay distinct as separately
    drawn circles would, with a few paths per chart instead of one element per dot.
    """
    reach = 2 * r + 1  # centres closer than this overlap (outer diameter)
    # Per layer: its sub-paths, and its centres by grid cell (cells `reach` wide, so only
    # the 3 x 3 cells around a dot can hold one it overlaps).
    layers: list[tuple[list[str], dict[tuple[int, int], list[tuple[float, float]]]]] = []
    for x, y in centres:
        cell = (int(x // reach), int(y // reach))
        near = [(cell[0] + i, cell[1] + j) for i in (-1, 0, 1) for j in (-1, 0, 1)]
        free = (
            layer
            for layer in layers
            if all(
                (x - a) ** 2 + (y - b) ** 2 >= reach**2
                for c in near
                for a, b in layer[1].get(c, ())
            )
        )
        segments, grid = next(free, None) or ([], {})
        if not segments:
            layers.append((segments, grid))
        segments.append(f"M{x:.1f} {y:.1f}h0")
        grid.setdefault(cell, []).append((x, y))
    parts = []
    for segments, _ in layers:
        d = "".join(segments)
        for colour, width in ((stroke, reach), (fill, 2 * r - 1)):
            parts.append(
                f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width:g}" '
                'stroke-linecap="round"/>'
            )
    return "".join(parts)


def line(
    x1: float,
    y1: float,
    x2: float,
    y2: float,
    stroke: str = GRID,
    width: float = 1,
    dash: str | None = None,
) -> str:
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="{stroke}" '
        f'stroke-width="{width}"{dashed}/>'
    )


def circle(
    cx: float, cy: float, r: float, fill: str, stroke: str | None = None, label: str | None = None
) -> str:
    outline = f' stroke="{stroke}" stroke-width="1.2"' if stroke else ""
    del label  # see `rect`
    return f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{r}" fill="{fill}"{outline}/>'


def polyline(
    points: Sequence[tuple[float, float]], stroke: str, width: float = 1, dash: str | None = None
) -> str:
    """A line through `points`, less the points it can do without (see `simplify`)."""
    coords = " ".join(f"{x:.1f},{y:.1f}" for x, y in simplify(points))
    dashed = f' stroke-dasharray="{dash}"' if dash else ""
    return (
        f'<polyline points="{coords}" fill="none" stroke="{stroke}" '
        f'stroke-width="{width}"{dashed}/>'
    )


def simplify(
    points: Sequence[tuple[float, float]], tolerance: float = 0.2
) -> list[tuple[float, float]]:
    """The points of a line that keep it within `tolerance` px of the original.

    Douglas–Peucker: a point stays only if the line would otherwise stray from it by more
    than `tolerance`. A funnel plot's control limits, tabulated at ~120 denominators each,
    keep a few dozen points (dense where the funnel bends, sparse where it is flat), which
    WeasyPrint parses and draws for less; a fifth of a pixel is well below what print
    shows.
    """
    if len(points) < 3:
        return list(points)
    keep = [False] * len(points)
    keep[0] = keep[-1] = True
    spans = [(0, len(points) - 1)]
    while spans:
        first, last = spans.pop()
        (x1, y1), (x2, y2) = points[first], points[last]
        length = math.hypot(x2 - x1, y2 - y1)
        worst, where = -1.0, first
        for i in range(first + 1, last):
            x, y = points[i]
            if length:
                off = abs((x2 - x1) * (y1 - y) - (x1 - x) * (y2 - y1)) / length
            else:
                off = math.hypot(x - x1, y - y1)
            if off > worst:
                worst, where = off, i
        if worst > tolerance:
            keep[where] = True
            spans += [(first, where), (where, last)]
    return [point for point, kept in zip(points, keep, strict=True) if kept]


def legend(
    x: float,
    y: float,
    entries: Sequence[tuple[str, str]],
    *,
    swatch: str = "rect",
    max_width: float = WIDTH,
) -> tuple[str, float]:
    """A one- or two-line legend; returns the markup and the height it takes."""
    parts: list[str] = []
    cx, cy = x, y
    for label, colour in entries:
        width = 14 + len(label) * SMALL * CHAR_WIDTH + 14
        if cx + width > max_width and cx > x:
            cx, cy = x, cy + 14
        if swatch == "circle":
            parts.append(circle(cx + 5, cy - 3, 4, colour))
        else:
            parts.append(rect(cx, cy - 8, 10, 10, colour))
        parts.append(text(cx + 14, cy, label, size=SMALL))
        cx += width
    return "".join(parts), cy - y + 14


def svg_document(chart_id: str, title: str, description: str, height: float, body: str) -> Markup:
    """Wrap chart marks in an accessible <svg> root (role="img", <title>, <desc>)."""
    root = (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{escape(chart_id)}" class="chart" '
        f'role="img" aria-labelledby="{escape(chart_id)}-title {escape(chart_id)}-desc" '
        f'width="{WIDTH}" height="{height:.0f}" viewBox="0 0 {WIDTH} {height:.0f}" '
        f'font-family="{FONT}">'
        f'<title id="{escape(chart_id)}-title">{escape(title)}</title>'
        f'<desc id="{escape(chart_id)}-desc">{escape(description)}</desc>'
        f"{body}</svg>"
    )
    return Markup(root)


def pct(value: float | None) -> str:
    """A percentage as the report prints it (whole numbers)."""
    return "–" if value is None else f"{whole(value)}%"
