"""The HTML report in a real headless Chromium: accessibility (axe-core), self-containment,
charts drawn, tables within the page, and a screenshot that shows something."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from report_support import full_input

from sharedground.instrument import Instrument
from sharedground.report.compose import Page, compose
from sharedground.report.model import Group
from sharedground.report.render import render_html

AXE = Path(__file__).resolve().parents[1] / "web" / "vendor" / "axe.min.js"


@pytest.fixture(scope="module")
def report(instrument: Instrument) -> tuple[Page, str]:
    page = compose(full_input(instrument))
    return page, render_html(page)


@pytest.fixture(scope="module")
def trust_report(instrument: Instrument) -> tuple[Page, str]:
    data = full_input(instrument)
    data.trust = "T007"
    data.comparison = None
    data.groups = [
        Group(g.id, g.label, g.respondents, shown=g.id != "clinical_director") for g in data.groups
    ]
    data.benchmarks = {"Other trusts": data.analysis}
    page = compose(data)
    return page, render_html(page)


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(20_000)
    try:
        yield page
    finally:
        context.close()


def _load(tab: Any, html: str) -> list[str]:
    """Load the report; the URLs it tried to fetch (every request is refused)."""
    requested: list[str] = []

    def refuse(route: Any) -> None:
        requested.append(route.request.url)
        route.abort()

    tab.route("**/*", refuse)
    tab.set_content(html, wait_until="load")
    return requested


def _axe(tab: Any) -> list[dict[str, Any]]:
    tab.add_script_tag(content=AXE.read_text(encoding="utf-8"))
    result = tab.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [v for v in result["violations"] if v["impact"] in ("serious", "critical")]


def _describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} - e.g. {v['nodes'][0]['html'][:160]}"
        for v in violations
    )


@pytest.mark.parametrize("which", ["report", "trust_report"])
def test_axe_finds_no_serious_or_critical_violation(
    which: str, request: pytest.FixtureRequest, tab: Any
) -> None:
    _, html = request.getfixturevalue(which)
    assert _load(tab, html) == []  # self-contained: nothing fetched
    violations = _axe(tab)
    assert violations == [], _describe(violations)


def test_axe_would_catch_a_chart_without_text(report: tuple[Page, str], tab: Any) -> None:
    """The check above can fail: strip a chart's accessible name and axe objects."""
    page, html = report
    chart = page.charts[0]
    broken = html.replace(
        str(chart.svg),
        str(chart.svg)
        .replace("aria-labelledby=", "data-x=")
        .replace(f'<title id="{chart.id}-title">{chart.title}</title>', ""),
    )
    assert broken != html
    _load(tab, broken)
    assert any(v["id"] == "svg-img-alt" for v in _axe(tab))


def test_every_chart_is_drawn_and_labelled(report: tuple[Page, str], tab: Any) -> None:
    page, html = report
    _load(tab, html)
    charts = tab.evaluate(
        """() => [...document.querySelectorAll('svg.chart')].map(svg => {
            const box = svg.getBoundingClientRect();
            const ids = (svg.getAttribute('aria-labelledby') || '').split(' ');
            return {id: svg.id, role: svg.getAttribute('role'), width: box.width,
                    height: box.height,
                    names: ids.map(i => (document.getElementById(i) || {}).textContent || ''),
                    marks: svg.querySelectorAll('rect, circle, line, polyline, path').length};
        })"""
    )
    assert [c["id"] for c in charts] == [c.id for c in page.charts]
    kinds = {c.kind for c in page.charts}
    assert kinds == {"likert", "bars", "dots", "funnel"}
    for chart in charts:
        assert chart["role"] == "img"
        assert all(name.strip() for name in chart["names"]) and len(chart["names"]) == 2
        assert chart["width"] > 300 and chart["height"] > 40, chart["id"]
        assert chart["marks"] > 8, chart["id"]


@pytest.mark.parametrize("width", [1280, 820])
def test_no_table_is_wider_than_the_page(width: int, report: tuple[Page, str], tab: Any) -> None:
    tab.set_viewport_size({"width": width, "height": 900})
    _load(tab, report[1])
    overflow = tab.evaluate(
        """() => {
            const page = document.documentElement.clientWidth;
            return [...document.querySelectorAll('table')]
                .filter(t => t.offsetParent !== null)
                .map(t => ({caption: (t.closest('section') || {}).id, right:
                            t.getBoundingClientRect().right, scroll: t.scrollWidth,
                            client: t.clientWidth, page}))
                .filter(t => t.right > t.page + 0.5 || t.scroll > t.client + 1);
        }"""
    )
    assert overflow == []
    assert tab.evaluate("() => document.documentElement.scrollWidth") <= width


def test_screenshot_shows_the_report(report: tuple[Page, str], tab: Any, tmp_path: Path) -> None:
    _load(tab, report[1])
    shot = tmp_path / "report.png"
    tab.screenshot(path=str(shot), full_page=True)
    with Image.open(shot) as image:
        assert image.width == 1280 and image.height > 5000
        colours = image.convert("RGB").resize((160, 800)).getcolors(maxcolors=100_000)
    assert colours is not None and len(colours) > 50  # text, tables and charts, not a blank


def test_trust_report_has_no_column_for_a_hidden_group(
    trust_report: tuple[Page, str], tab: Any
) -> None:
    _load(tab, trust_report[1])
    headers = tab.evaluate(
        "() => [...document.querySelectorAll('section.table-block thead th')].map(t => t.innerText)"
    )
    assert headers and not any("Clinical director" in h for h in headers)
    assert any("Other trusts" in h for h in headers)
