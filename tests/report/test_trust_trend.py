"""A trust's change since an earlier wave, and its place beside the published national figures.

Two synthetic waves on the 2015 questionnaire share a trust, TT, whose answers to the local
rating are set by hand: medical directors go from 6 of 30 positive to 24 of 30 (a change
no test can miss), directorate managers stay at 12 of 25 (no change at all). Everything else
TT's respondents answered is the same in both waves, since the earlier wave's TT respondents
are copies of the later ones. Clinical directors number 10 now but 3 then, and so (with the
chief executives, withheld with them so that the 3 cannot be worked out by subtraction)
have no place in the trust's trend although they have columns in its tables. The earlier
wave's own disclosure decision holds for its figures too (a last test).

Expected percentages and significance are computed here from the two frames, with a
two-proportion z test written out by hand (the same as Pearson's chi-squared on the 2 × 2
table), not by the analysis engine.
"""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from click.testing import CliRunner
from report_support import text_of
from scipy.stats import fisher_exact
from selectolax.lexbor import LexborHTMLParser as HTMLParser

from sharedground import synth
from sharedground.analysis import published
from sharedground.cli import main
from sharedground.exchange.importer import import_file
from sharedground.report import build
from sharedground.report.compose import compose
from sharedground.report.model import NATIONAL_CONTEXT, OVERALL, whole
from sharedground.report.render import render_html
from sharedground.store import Store

TRUST, ONLY_NOW = "TT", "TONLY"
NOW, THEN = "wave-b", "wave-a"
POSITIVE = "Rate local relationships positively (4 or 5 out of 5)"
NEGATIVE = "Rate local relationships negatively (1 or 2 out of 5)"
ROLES = ("chief_executive", "medical_director", "directorate_manager", "clinical_director")
#: TT's respondents per role in each wave.
SIZES = {
    NOW: {"chief_executive": 6, "medical_director": 30, "directorate_manager": 25,
          "clinical_director": 10},
    THEN: {"chief_executive": 6, "medical_director": 30, "directorate_manager": 25,
           "clinical_director": 3},
}  # fmt: skip
#: TT's local ratings per role in each wave (cycled over the role's respondents).
STEADY = ["4"] * 12 + ["2"] * 13
RATINGS = {
    NOW: {"medical_director": ["5"] * 24 + ["1"] * 6, "directorate_manager": STEADY},
    # The earlier wave's 3 clinical directors rate a mix: had they rated 3 like the chief
    # executives, the trust less its medical directors and directorate managers would say
    # so of all 9 withheld, and the directorate managers would be withheld with them.
    THEN: {
        "medical_director": ["5"] * 6 + ["1"] * 24,
        "directorate_manager": STEADY,
        "clinical_director": ["4", "2", "3"],
    },
}


def _with_ratings(
    rows: pl.DataFrame, wave: str, ratings_of: dict[str, dict[str, list[str]]] = RATINGS
) -> pl.DataFrame:
    """TT's rows of one wave: the sizes of `SIZES`, ratings of `RATINGS` (others rate 3)."""
    parts = []
    for role in ROLES:
        chosen = rows.filter(pl.col("role") == role).head(SIZES[wave][role])
        ratings = ratings_of[wave].get(role, ["3"] * chosen.height)
        parts.append(chosen.with_columns(local_rating=pl.Series(ratings[: chosen.height])))
    return pl.concat(parts)


def _waves(ratings_of: dict[str, dict[str, list[str]]] = RATINGS) -> dict[str, pl.DataFrame]:
    now = synth.generate("2015", seed=21, respondents=500, trusts=4)
    then = synth.generate("2015", seed=22, respondents=500, trusts=4)
    picked = pl.concat(now.filter(pl.col("role") == role).head(SIZES[NOW][role]) for role in ROLES)[
        "respondent_id"
    ]
    mine = pl.col("respondent_id").is_in(picked.implode())
    tt_now = _with_ratings(now.filter(mine).with_columns(trust=pl.lit(TRUST)), NOW, ratings_of)
    # The earlier wave's TT: the same people (same answers), fewer clinical directors.
    tt_then = _with_ratings(tt_now, THEN, ratings_of).with_columns(
        respondent_id=pl.format("TT-then-{}", pl.int_range(pl.len()).cast(pl.String))
    )
    # A trust with responses in the later wave only. Eighty of T001's: with a dozen, every
    # one of its groups was small, and the wave-wide disclosure decision (which protects
    # them against the other trusts' reports too) then withheld groups of TT as well.
    only_now = now.filter(~mine & (pl.col("trust") == "T001")).head(80)
    rest_now = now.filter(
        ~mine & ~pl.col("respondent_id").is_in(only_now["respondent_id"].implode())
    )
    return {
        NOW: pl.concat([rest_now, tt_now, only_now.with_columns(trust=pl.lit(ONLY_NOW))]),
        THEN: pl.concat([then, tt_then]),
    }


@pytest.fixture(scope="module")
def wave_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[pl.DataFrame, Path]]:
    folder = tmp_path_factory.mktemp("waves")
    found = {}
    for name, frame in _waves().items():
        path = folder / f"{name}.csv"
        synth.write(frame, synth.instrument_for("2015"), path)
        found[name] = (frame, path)
    return found


@pytest.fixture
def two_waves(store: Store, wave_files: dict[str, tuple[pl.DataFrame, Path]]) -> Store:
    for name in (THEN, NOW):
        import_file(store, wave_files[name][1], name, synth.instrument_for("2015"))
    return store


def _z_test(x1: int, n1: int, x0: int, n0: int) -> float:
    """Two-sided p of the pooled two-proportion z test (Pearson's chi-squared, no correction)."""
    pooled = (x1 + x0) / (n1 + n0)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n0))
    return math.erfc(abs(x1 / n1 - x0 / n0) / se / math.sqrt(2)) if se else 1.0


def _p_value(x1: int, n1: int, x0: int, n0: int) -> float:
    """As the survey's tests are defined: Fisher's exact test when an expected count is < 5."""
    table = [[x1, n1 - x1], [x0, n0 - x0]]
    total = n1 + n0
    columns = [x1 + x0, total - x1 - x0]
    if min(r * c / total for r in (n1, n0) for c in columns) < 5:
        return float(fisher_exact(table).pvalue)
    return _z_test(x1, n1, x0, n0)


def _count(frame: pl.DataFrame, wave_rows: pl.Expr, values: list[str]) -> tuple[int, int]:
    rated = frame.filter(wave_rows & pl.col("local_rating").is_in([str(v) for v in range(1, 6)]))
    return rated.filter(pl.col("local_rating").is_in(values)).height, rated.height


def _trend_table(html: str) -> tuple[list[str], dict[str, list[dict[str, Any]]]]:
    """The trend table: header, and per row label the cells (text, significant)."""
    section = HTMLParser(html).css_first("#trend")
    assert section is not None
    table = section.css_first("table.trend")
    assert table is not None
    header = [text_of(th) for th in table.css("thead th")]
    rows = {}
    for tr in table.css("tbody tr"):
        th = tr.css_first("th")
        assert th is not None
        rows[text_of(th)] = [
            {
                "text": text_of(td),
                "significant": "significant" in (td.attributes.get("class") or ""),
            }
            for td in tr.css("td")
        ]
    return header, rows


def test_trust_change_since_a_stored_wave(
    two_waves: Store, wave_files: dict[str, tuple[pl.DataFrame, Path]]
) -> None:
    context = build.load(two_waves, NOW, compare=THEN)
    data = build.trust_input(context, TRUST)
    html = render_html(compose(data))
    header, rows = _trend_table(html)
    # Only groups with at least 5 respondents in both waves, then the trust as a whole.
    assert header == [
        "Figure",
        "Medical director",
        "Directorate manager",
        "This trust",
        "This trust: 95% CI of change",
        "This trust: p",
    ]
    # ... although clinical directors and chief executives have columns in its tables now.
    tables = HTMLParser(html).css("section.table-block thead th")
    assert any("Clinical director" in text_of(th) for th in tables)
    assert any("Chief executive" in text_of(th) for th in tables)

    now, then = wave_files[NOW][0], wave_files[THEN][0]
    in_trust = pl.col("trust") == TRUST
    significant_cells = set()
    for label, values in ((POSITIVE, ["4", "5"]), (NEGATIVE, ["1", "2"])):
        cells = rows[label]
        for column, role in enumerate(("medical_director", "directorate_manager", OVERALL)):
            who = in_trust if role == OVERALL else in_trust & (pl.col("role") == role)
            x1, n1 = _count(now, who, values)
            x0, n0 = _count(then, who, values)
            p = _p_value(x1, n1, x0, n0)
            diff = 100 * (x1 / n1 - x0 / n0)
            expected = f"{whole(100 * x0 / n0)} → {whole(100 * x1 / n1)}"
            assert cells[column]["text"].startswith(expected), (label, role)
            assert f"{whole(diff):+d}".replace("-", "−") in cells[column]["text"] or diff == 0
            assert cells[column]["significant"] is (p < 0.05), (label, role, p)
            if p < 0.05:
                significant_cells.add((label, role))
            if role == OVERALL:
                printed = cells[-1]["text"]
                assert printed == "< 0.001" if p < 0.001 else abs(float(printed) - p) < 5e-4
    # The design: medical directors changed, directorate managers did not.
    groups = {(label, role) for label, role in significant_cells if role != OVERALL}
    assert groups == {(POSITIVE, "medical_director"), (NEGATIVE, "medical_director")}
    # Every other figure: the same people with the same answers (plus 7 clinical directors
    # in the trust as a whole), so nothing else changed significantly.
    others = {label: cells for label, cells in rows.items() if label not in (POSITIVE, NEGATIVE)}
    assert others and not any(c["significant"] for cells in others.values() for c in cells)

    # Key points name the trust's significant changes, and only groups shown in the trend.
    tree = HTMLParser(html)
    points = [text_of(li) for li in tree.css("ul.key-points li")]
    change = next(p for p in points if p.startswith(f"Largest changes in this trust since {THEN}"))
    assert "among medical directors" in change and "rose from 20% to 80%" in change
    assert "clinical director" not in change and "chief executive" not in change
    # Charts: the dot plots carry the same groups only, with no small cell of either wave.
    trend = tree.css_first("#trend")
    assert trend is not None and trend.css("figure.chart[data-kind=dots]")
    words = text_of(trend)
    assert "Clinical director" not in words and "Chief executive" not in words
    assert "Medical director" in " ".join(text_of(f) for f in trend.css("figure.chart"))
    contents = [text_of(a) for a in tree.css("nav.toc a")]
    assert f"Change in this trust since {THEN}" in contents


def test_small_cells_of_either_wave_are_withheld(two_waves: Store) -> None:
    """With the threshold above the directorate managers' 25, only the trust's figures
    remain; above 30, the medical directors' go too; no point under it survives."""
    context = build.load(two_waves, NOW, compare=THEN)
    for threshold, kept in ((26, {"medical_director"}), (31, set())):
        context.data = dataclasses.replace(context.data, suppression_threshold=threshold)
        data = build.trust_input(context, TRUST)
        assert data.comparison is not None
        assert set(data.comparison.groups or ()) == kept
        for row in data.comparison.rows:
            assert set(row.points) <= kept | {OVERALL}
        header, _ = _trend_table(render_html(compose(data)))
        assert header[1:-3] == (["Medical director"] if kept else [])


def test_a_trust_missing_from_the_earlier_wave_says_so(two_waves: Store) -> None:
    context = build.load(two_waves, NOW, compare=THEN)
    html = render_html(compose(build.trust_input(context, ONLY_NOW)))
    tree = HTMLParser(html)
    trend = tree.css_first("#trend")
    assert trend is not None and trend.css_first("table") is None
    assert f"Wave {THEN} has no responses from this trust" in text_of(trend)
    points = [text_of(li) for li in tree.css("ul.key-points li")]
    assert any(p.startswith(f"Change in this trust since {THEN}") for p in points)


def test_published_figures_are_national_context_only(
    two_waves: Store, wave_files: dict[str, tuple[pl.DataFrame, Path]]
) -> None:
    """No 2002 wave is stored here, so --compare 2002 means the published national figures."""
    context = build.load(two_waves, NOW, compare="2002")
    data = build.trust_input(context, TRUST)
    assert data.comparison is not None and data.comparison.scope == NATIONAL_CONTEXT
    page = compose(data)
    html = render_html(page)
    tree = HTMLParser(html)
    trend = tree.css_first("#trend")
    assert trend is not None
    said = text_of(trend)
    assert "Published figures for 2002 exist only for the country as a whole" in said
    assert "as national context only" in said
    points = {p.heading: p.text for p in page.key_points}
    assert "exist only for the country as a whole" in points["Change since 2002"]
    assert not any(h.startswith("Largest changes") for h in points)

    # Approximate published counts get no test; the exact 2002 fractions do.
    figures = published.reference("2002")
    header, rows = _trend_table(html)
    columns = header[1:-2]
    assert columns[-1] == "This trust" and "Clinical director" in columns
    exact = published.EXACT_2002[("table_2.1", "local_rating", 0)]
    for row in data.comparison.rows:
        for key, point in row.points.items():
            then = figures[(row.table_id, row.item, row.option, 0)].get(key)
            if then is None or (row.table_id, row.item) == ("table_2.1", "local_rating"):
                continue
            assert point.approximate is then.approximate
            if then.approximate:
                assert point.p_value is None and not point.significant
    cells = rows[POSITIVE]
    for key, figure in exact.items():
        label = {"chief_executive": "Chief executive", "clinical_director": "Clinical director"}
        cell = cells[columns.index(label[key])]
        who = (pl.col("trust") == TRUST) & (pl.col("role") == key)
        x1, n1 = _count(wave_files[NOW][0], who, ["4", "5"])
        p = _p_value(x1, n1, figure[0], figure[1])
        assert cell["significant"] is (p < 0.05), (key, p)
        assert "≈" not in cell["text"]
    assert "≈" in cells[columns.index("Medical director")]["text"]
    assert "≈" not in " ".join(c["text"] for c in cells if c["significant"])


def test_report_command_writes_the_trust_trend(two_waves: Store, tmp_path: Path) -> None:
    url = two_waves.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        main,
        ["report", "--wave", NOW, "--out", str(tmp_path), "--trust", TRUST, "--compare", THEN,
         "--no-pdf", "--database", url],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    html = (tmp_path / f"trust-{TRUST}.html").read_text(encoding="utf-8")
    header, rows = _trend_table(html)
    assert header[1:3] == ["Medical director", "Directorate manager"]
    assert rows[POSITIVE][0]["text"].startswith("20 → 80")


def test_trusts_split_once_hold_what_a_filter_finds(two_waves: Store) -> None:
    """The wave split by trust once for all trust reports gives each trust exactly the rows
    (in order) that filtering the whole wave does, in both waves, and the trust's own
    analysis reused for its trend gives the trend computed from scratch."""
    from sharedground.analysis import trend as analysis_trend
    from sharedground.analysis.tables import analyse

    context = build.load(two_waves, NOW, compare=THEN)
    assert context.earlier is not None
    codes = sorted(set(context.data.frame["trust"].drop_nulls().to_list()))
    assert context.trusts == codes and {TRUST, ONLY_NOW} <= set(codes)
    for code in codes:
        mine = context.trust_data(code).frame
        assert mine.equals(context.data.frame.filter(pl.col("trust") == code))
        then = context.trust_earlier(code)
        assert then is not None
        assert then.frame.equals(context.earlier.frame.filter(pl.col("trust") == code))
        assert then.frame.columns == context.earlier.frame.columns
    assert context.trust_earlier(ONLY_NOW).frame.height == 0  # type: ignore[union-attr]

    now, then = context.trust_data(TRUST), context.trust_earlier(TRUST)
    assert then is not None
    fresh = analysis_trend.against_wave(now, then, threshold=context.threshold)
    reused = analysis_trend.against_wave(
        now, then, threshold=context.threshold, current=analyse(now)
    )
    assert reused.rows == fresh.rows and len(fresh.rows) > 50
    assert reused.groups == fresh.groups and reused.notes == fresh.notes


def test_figures_the_earlier_wave_withheld_stay_withheld(
    store: Store, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The earlier wave's 3 clinical directors of TT rate their relationships 3, like its
    chief executives: then TT less its medical directors and directorate managers says so
    of all 9 withheld, so that wave's own disclosure decision withheld TT's directorate
    managers' figures too (secondary suppression), although 25 of them answered. The
    change since that wave must not print those earlier figures (it did: the earlier
    wave's TT was suppressed on its own, by size alone), nor any other the earlier wave's
    trust report withheld."""
    from sharedground.analysis.tables import Options, analyse

    ratings = {NOW: RATINGS[NOW], THEN: {**RATINGS[THEN], "clinical_director": ["3"] * 3}}
    folder = tmp_path_factory.mktemp("withheld-then")
    for name, frame in _waves(ratings).items():
        path = folder / f"{name}.csv"
        synth.write(frame, synth.instrument_for("2015"), path)
        import_file(store, path, name, synth.instrument_for("2015"))

    # What the earlier wave's own report for TT withholds.
    earlier = build.load(store, THEN)
    own = analyse(earlier.trust_data(TRUST), Options(disclosure=earlier.disclosure.view(TRUST)))
    withheld = {
        (table.id, row.spec.item, row.spec.option, row.spec.label): {
            group
            for group, cell in [*row.groups.items(), (OVERALL, row.overall)]
            if cell.count is None
        }
        for table in own.tables
        for row in table.rows
    }
    dm_withheld = {key for key, groups in withheld.items() if "directorate_manager" in groups}
    # The design: the decision withholds the directorate managers' local ratings, which
    # suppression by size alone shows (25 answers).
    assert any(item == "local_rating" for _, item, _, _ in dm_withheld), dm_withheld

    context = build.load(store, NOW, compare=THEN)
    comparison = build.trust_input(context, TRUST).comparison
    assert comparison is not None and comparison.rows
    printed = 0
    for row in comparison.rows:
        hidden = withheld.get((row.table_id, row.item, row.option, row.label), set())
        assert not hidden & set(row.points), (row.label, hidden & set(row.points))
        printed += "directorate_manager" in row.points
    # Directorate managers keep their column where the earlier wave printed them.
    assert printed > 0
