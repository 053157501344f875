"""The evaluation's charts: event study and SPC, parsed as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from sharedground.evaluation.did import Estimate
from sharedground.evaluation.spc import xmr_chart
from sharedground.report.charts.event_study import event_study_chart
from sharedground.report.charts.spc import COLOURS, spc_chart

NS = {"s": "http://www.w3.org/2000/svg"}


def _estimate(e: int, att: float) -> Estimate:
    return Estimate(f"e={e}", att, 0.01, 0.01, att - 0.02, att + 0.02, event_time=e)


def test_event_study_draws_a_point_and_interval_per_event_time() -> None:
    events = [_estimate(-2, 0.001), _estimate(-1, -0.004), _estimate(0, 0.06), _estimate(1, 0.08)]
    chart = event_study_chart("es", "Joint leadership: share positive", events)
    root = ET.fromstring(str(chart.svg))
    assert root.find("s:title", NS).text == "Joint leadership: share positive"  # type: ignore[union-attr]
    circles = root.findall("s:circle", NS)
    assert len(circles) == 4
    # placebo points grey, after the start blue
    assert [c.get("fill") for c in circles] == ["#888888", "#888888", "#0072B2", "#0072B2"]
    assert [row[0] for row in chart.data_rows] == ["-2", "-1", "0", "1"]
    assert chart.data_rows[2][1] == "+6.0" and chart.data_rows[2][2] == "+4.0 to +8.0"
    assert "0 wave(s) after: +6.0 (+4.0 to +8.0)" in chart.description
    # intervals are drawn above and below each point (y grows downwards)
    whiskers = [line for line in root.findall("s:line", NS) if line.get("stroke") == "#0072B2"]
    assert len(whiskers) == 2
    for line, circle in zip(whiskers, circles[2:], strict=True):
        assert float(line.get("y1")) > float(circle.get("cy")) > float(line.get("y2"))  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        event_study_chart("x", "x", [])


def test_spc_chart_colours_points_by_type_and_marks_the_milestone() -> None:
    values = [10, 11, 10, 11, 10, 11, 10, 11, 14, 15, 14, 15, 14, 15, 14, 15]
    x = [f"m{i}" for i in range(len(values))]
    chart = xmr_chart(values, x, baseline=8, milestones=[("m8", "initiative starts")])
    drawn = spc_chart("spc", "Monthly pulse", chart, percent=False)
    root = ET.fromstring(str(drawn.svg))
    circles = root.findall("s:circle", NS)
    assert len(circles) == len(values)
    assert [c.get("fill") for c in circles] == [COLOURS[t] for t in chart.point_type]
    assert chart.point_type[-1] == "special_cause_improvement"
    texts = [t.text for t in root.findall("s:text", NS)]
    assert "initiative starts" in texts
    assert "special cause: improvement (high)" in texts
    assert "Initiative starts: m8." in drawn.description
    assert len(drawn.data_rows) == len(values)
