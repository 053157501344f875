"""The charts' SVG, parsed: what is drawn and how (WeasyPrint's cost depends on the how)."""

from __future__ import annotations

import itertools
import math
import re
import xml.etree.ElementTree as ET

from sharedground.report.charts import funnel_chart, svg
from sharedground.report.model import Funnel, FunnelPoint

NS = "{http://www.w3.org/2000/svg}"
DOT = re.compile(r"M(-?[\d.]+) (-?[\d.]+)h0")


def _parse(markup: str) -> list[ET.Element]:
    return ET.fromstring(f'<svg xmlns="http://www.w3.org/2000/svg">{markup}</svg>').findall(
        f"{NS}path"
    )


def _dot_layers(paths: list[ET.Element]) -> list[list[tuple[float, float]]]:
    """The centres of the dots of each layer drawn by `svg.dots`, in drawing order."""
    assert paths and len(paths) % 2 == 0
    layers = []
    for outline, fill in zip(paths[::2], paths[1::2], strict=True):
        assert outline.get("d") == fill.get("d")
        assert outline.get("stroke-linecap") == fill.get("stroke-linecap") == "round"
        # The outline is the wider disc underneath, the fill the narrower one on top.
        assert float(outline.get("stroke-width", 0)) > float(fill.get("stroke-width", 0))
        d = outline.get("d", "")
        centres = [(float(x), float(y)) for x, y in DOT.findall(d)]
        assert DOT.sub("", d) == "", "every sub-path is a dot"
        layers.append(centres)
    return layers


def test_dots_are_zero_length_round_capped_subpaths() -> None:
    centres = [(10.0, 10.0), (50.0, 10.0), (90.0, 40.0)]
    layers = _dot_layers(_parse(svg.dots(centres, 2.6, "#56B4E9", "#1f6f9f")))
    assert layers == [centres]  # far apart: one layer, one pair of paths


def test_overlapping_dots_go_to_later_layers() -> None:
    # A cluster: each dot overlaps the one before it; the first and third do not overlap.
    centres = [(10.0, 10.0), (13.0, 10.0), (16.5, 10.0), (13.0, 12.0), (100.0, 100.0)]
    layers = _dot_layers(_parse(svg.dots(centres, 2.6, "#56B4E9", "#1f6f9f")))
    assert sorted(c for layer in layers for c in layer) == sorted(centres)
    reach = 2 * 2.6 + 1
    for layer in layers:
        for i, a in enumerate(layer):
            for b in layer[i + 1 :]:
                assert math.dist(a, b) >= reach, (a, b)
    # Drawn in order where it matters: a dot overlapping an earlier one is drawn after it.
    where = {c: i for i, layer in enumerate(layers) for c in layer}
    assert where[(13.0, 10.0)] > where[(10.0, 10.0)]
    assert where[(13.0, 12.0)] > where[(13.0, 10.0)]
    assert len(layers) == 3


def test_funnel_draws_a_dot_per_other_trust_without_arcs() -> None:
    points = [FunnelPoint(f"T{i:03d}", 20 + i % 17, 40 + 3 * i) for i in range(150)]
    chart = funnel_chart(
        "f", "Funnel", Funnel("table_2.1", "q", "label", 50.0, points, highlight="T010")
    )
    root = ET.fromstring(str(chart.svg))
    paths = root.findall(f".//{NS}path")
    assert paths and not any("a" in (p.get("d") or "").lower() for p in paths)
    dots = [p for p in paths if p.get("stroke-linecap") == "round"]
    centres = [c for layer in _dot_layers(dots) for c in layer]
    assert len(centres) == len(points) - 1  # the highlighted trust is drawn apart
    highlighted = [c for c in root.iter(f"{NS}circle") if c.get("fill") == "#D55E00"]
    assert len(highlighted) == 2  # the trust and its legend entry


def _distance(point: tuple[float, float], line: list[tuple[float, float]]) -> float:
    """How far `point` is from the polyline `line`."""
    best = math.inf
    for (x1, y1), (x2, y2) in itertools.pairwise(line):
        dx, dy = x2 - x1, y2 - y1
        t = max(0.0, min(1.0, ((point[0] - x1) * dx + (point[1] - y1) * dy) / (dx * dx + dy * dy)))
        best = min(best, math.dist(point, (x1 + t * dx, y1 + t * dy)))
    return best


def test_lines_keep_only_the_points_they_need() -> None:
    # A funnel limit: steep at small denominators, flat further on.
    curve = [(10 + 4.8 * i, 150 - 60 / math.sqrt(i)) for i in range(1, 121)]
    kept = svg.simplify(curve)
    assert kept[0] == curve[0] and kept[-1] == curve[-1]
    assert len(kept) < len(curve) / 4
    assert max(_distance(p, kept) for p in curve) <= 0.2
    # Dense where it bends: more of the points kept in the first tenth than the last.
    assert sum(x < 68 for x, _ in kept) > sum(x > 530 for x, _ in kept)
    corner = [(0.0, 0.0), (5.0, 0.0), (10.0, 0.0), (10.0, 5.0), (10.0, 10.0)]
    assert svg.simplify(corner) == [(0.0, 0.0), (10.0, 0.0), (10.0, 10.0)]
    root = ET.fromstring(
        f'<svg xmlns="http://www.w3.org/2000/svg">{svg.polyline(curve, "#555")}</svg>'
    )
    points = root.find(f"{NS}polyline")
    assert points is not None and len((points.get("points") or "").split()) == len(kept)
