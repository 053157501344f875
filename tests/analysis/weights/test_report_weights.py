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


def test_trust_reports_are_weighted_with_their_own_rows(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    """A trust's tables take the wave's weights of its own respondents: its overall
    weighted share of each row equals the share computed from the whole wave's frame and
    weights filtered to the trust (the alignment of rows and weights is what is tested;
    the weighted estimators are checked against R elsewhere)."""
    import dataclasses

    import numpy as np
    import polars as pl

    from sharedground.analysis.source import WaveData
    from sharedground.analysis.tables import analyse
    from sharedground.analysis.weights.raking import kish
    from sharedground.analysis.weights.weighting import WeightOptions, wave_weights
    from sharedground.report import build

    code, output = _report(store, tmp_path / "rep", "--weights", "design", "--all-trusts")
    assert code == 0, output
    pages = sorted((tmp_path / "rep").rglob("*.html"))
    assert len(pages) == 3
    for page in pages:
        tree = HTMLParser(page.read_text(encoding="utf-8"))
        notes = [p.text() for p in tree.css("section.table-block div.notes p")]
        assert any(n.startswith("Weighted (design") for n in notes)

    options = WeightOptions(kind="design")
    context = build.load(store, "w", weights=options)
    data = context.data
    made = wave_weights(store, "w", data.frame, data.instrument, options)
    # Independently aligned: the weights travel as a column through Polars' filter.
    carried = data.frame.with_columns(pl.Series("__w", made.values), pl.Series("__s", made.strata))
    checked = 0
    for trust in context.trusts:
        document = build.trust_input(context, trust).analysis
        assert document["weighting"]["kind"] == "design"
        own = carried.filter(pl.col("trust") == trust)
        subset = WaveData(
            "w", data.instrument, data.suppression_threshold, own.drop("__w", "__s"), "subset"
        )
        values = own["__w"].to_numpy()
        alone = dataclasses.replace(
            made, values=values, strata=own["__s"].to_numpy(), kish=kish(values)
        )
        expected = analyse(subset, None, alone).to_json()
        for table, other in zip(document["tables"], expected["tables"], strict=True):
            for row, want in zip(table["rows"], other["rows"], strict=True):
                got = (row["overall"].get("weighted") or {}).get("pct")
                if got is None:  # withheld by the wave's disclosure decision
                    continue
                assert got == (want["overall"].get("weighted") or {}).get("pct")
                checked += 1
        # And the trust's weights are not the wave's first rows (a misalignment would be).
        assert not np.array_equal(values, made.values[: len(values)]) or trust == context.trusts[0]
    assert checked > 10
