"""The evaluation's HTML page: the What works table, its rule and charts; an initiative's
tests, caveat and SPC chart (parsed with selectolax)."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from sharedground.evaluation.summary import evaluate, from_scenario
from sharedground.report.evaluation_page import render_evaluation_html


@pytest.fixture(scope="module")
def tables():  # type: ignore[no-untyped-def]
    return from_scenario(2)


def test_what_works_page(tables) -> None:  # type: ignore[no-untyped-def]
    doc = evaluate(tables, replicates=199)
    page = HTMLParser(render_evaluation_html(doc, tables))
    rows = page.css("section#what-works > table > tbody > tr")
    assert len(rows) == len(doc["what_works"]) == 12
    verdicts = [r.attributes["data-verdict"] for r in rows]
    assert verdicts == [r["verdict"] for r in doc["what_works"]]
    first = doc["what_works"][0]
    cells = [c.text() for c in rows[0].css("td")]
    assert cells[5] == f"{first['effect'] * 100:+.1f}"  # shares in percentage points
    notes = page.css_first("section#what-works .notes").text()
    assert "Benjamini-Hochberg" in notes and "roll out" in notes
    figures = page.css("section#what-works figure.chart")
    assert len(figures) == 12
    assert all(f.attributes["data-kind"] == "event_study" for f in figures)
    assert page.css_first("figure svg title") is not None


def test_initiative_page(tables) -> None:  # type: ignore[no-untyped-def]
    doc = evaluate(tables, initiative=7)
    page = HTMLParser(render_evaluation_html(doc, tables))
    rows = page.css("section#initiative-7 > table > tbody > tr")
    assert len(rows) == 6  # agree: McNemar x 2 groups; rating: 2 tests x 2 groups
    assert [r.css_first("td:nth-child(3)").text() for r in rows[:2]] == ["exact McNemar"] * 2
    assert "secular change" in page.css_first(".caveat").text()
    (figure,) = page.css("figure.chart")
    assert figure.attributes["data-kind"] == "spc"
    assert "Initiative starts" in figure.css_first("p.chart-desc").text()
