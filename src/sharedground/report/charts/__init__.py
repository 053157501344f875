"""The report's charts, hand-built SVG (see `svg` for why)."""

from sharedground.report.charts.bars import grouped_bars
from sharedground.report.charts.dots import then_now
from sharedground.report.charts.funnel import funnel_chart
from sharedground.report.charts.likert import diverging, shares
from sharedground.report.charts.svg import Chart

__all__ = ["Chart", "diverging", "funnel_chart", "grouped_bars", "shares", "then_now"]
