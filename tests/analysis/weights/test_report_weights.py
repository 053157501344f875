"""`sharedground report --weights design`: every table and the methods say so."""

from __future__ import annotations

from pathlib import Path

from analysis_helpers import HandMade
from click.testing import CliRunner
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from sharedground.cli import main
from sharedground.store import Store


def _report(store: Store, out: Path, *extra: str) -> tuple[int, str]:
    url = store.engine.url.render_as_string(hide_password=False)
    args = ["report", "--wave", "w", "--out", str(out), "--no-pdf", *extra, "--database", url]
    result = CliRunner().invoke(main, args)
    return result.exit_code, result.output


def test_weighted_report_footnotes_and_methods(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    code, output = _report(store, tmp_path / "rep", "--weights", "design")
    assert code == 0, output
    (html,) = (tmp_path / "rep").rglob("*.html")
    tree = HTMLParser(html.read_text(encoding="utf-8"))
    blocks = tree.css("section.table-block")
    assert blocks
    for block in blocks:
        notes = [p.text() for p in block.css("div.notes p")]
        assert any(n.startswith("Weighted (design") for n in notes), block.css_first("h3").text()
        assert not any("Chi-squared test of equality" in n for n in notes)
    text = tree.body.text() if tree.body else ""
    assert "Largest shifts from the unweighted figures" in text
    assert "design effect" in text


def test_trust_reports_refuse_weights(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    code, output = _report(store, tmp_path / "rep", "--weights", "design", "--all-trusts")
    assert code == 2 and "national report only" in output
