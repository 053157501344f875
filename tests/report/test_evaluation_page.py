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


def test_national_report_gains_what_works(tables, tmp_path, instrument) -> None:  # type: ignore[no-untyped-def]
    from report_support import published_input

    from sharedground.report.write import write_report

    doc = evaluate(tables, replicates=99)
    plain = write_report(published_input(instrument), tmp_path / "a", "r", pdf=False)
    files = write_report(
        published_input(instrument), tmp_path / "b", "r", pdf=False, evaluation=doc
    )
    page = HTMLParser(files.html.read_text(encoding="utf-8"))
    assert page.css_first("section#what-works") is not None
    assert HTMLParser(plain.html.read_text(encoding="utf-8")).css_first("#what-works") is None
    links = [a.attributes.get("href") for a in page.css("a")]
    assert "#what-works" in links
    assert files.charts == plain.charts + 12
    rows = page.css("section#what-works > table > tbody > tr")
    assert [r.attributes["data-verdict"] for r in rows] == [r["verdict"] for r in doc["what_works"]]


def test_report_command_refuses_a_wrong_evaluation_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from sharedground.cli import main

    bad = tmp_path / "initiative.json"
    bad.write_text('{"schema_version": 1, "control": "never", "initiative": {}}')
    args = ["report", "--wave", "w", "--out", str(tmp_path / "o"), "--evaluation", str(bad)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 2 and "has no 'What works' table" in result.output
    good = tmp_path / "works.json"
    good.write_text('{"what_works": [], "event_studies": []}')
    result = CliRunner().invoke(main, [*args[:-1], str(good), "--trust", "RXX"])
    assert result.exit_code == 2 and "national report only" in result.output
