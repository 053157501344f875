"""Trends: now against the published 2002 / 2015 figures or another stored wave."""

from __future__ import annotations

from pathlib import Path

import pytest
from analysis_helpers import (
    HandMade,
    make_rows,
    newcombe,
    tally,
    wave_from_rows,
    where,
    write_rows,
)
from scipy.stats import chi2_contingency

from sharedground import synth
from sharedground.analysis import published
from sharedground.analysis.results import half_up
from sharedground.analysis.source import load_wave
from sharedground.analysis.trend import against_published, against_wave
from sharedground.exchange.importer import import_file
from sharedground.instrument import builtin
from sharedground.reference import ROLES, group_sizes, published_2015
from sharedground.store import Store

PLURAL = {
    "chief_executive": "chief executives",
    "medical_director": "medical directors",
    "directorate_manager": "directorate managers",
    "clinical_director": "clinical directors",
}


@pytest.fixture(scope="module")
def synthetic_2015() -> object:
    instrument = synth.instrument_for("2015")
    frame = synth.generate("2015", seed=2015)
    rows = [{k: (v or "") for k, v in r.items()} for r in frame.iter_rows(named=True)]
    return wave_from_rows(instrument, rows, name="2015")


def test_exact_2002_fractions_are_the_ones_the_reference_states() -> None:
    note = published_2015()["study"]["y2002_sample"]["note"]
    for (table, item, _), cells in published.EXACT_2002.items():
        row = next(
            r
            for t in published_2015()["tables"]
            if t["id"] == table
            for r in t["rows"]
            if r["item"] == item
        )
        for group, (count, valid) in cells.items():
            assert f"{PLURAL[group]} {count}/{valid}" in note
            assert half_up(100 * count / valid) == row["y2002"][group]


def test_2002_figures_say_which_counts_were_rebuilt() -> None:
    figures = published.reference("2002")
    positive = figures[("table_2.1", "local_rating", None, 0)]
    assert positive["clinical_director"].approximate is False
    assert (positive["clinical_director"].count, positive["clinical_director"].valid) == (164, 443)
    manager = positive["directorate_manager"]
    assert manager.approximate is True
    assert manager.valid == group_sizes(2002)["directorate_manager"] == 376
    assert half_up(manager.pct) == 44
    assert positive["overall"].valid == 1092


def test_a_reverse_scored_2002_share_is_turned_round() -> None:
    # 2002: 48% overall said management DO exert pressure to discharge early; the row
    # counts those who do not, among valid answers.
    figures = published.reference("2002")[("table_2.2", "pressure_early_discharge", None, 0)]
    assert half_up(figures["overall"].pct) == 52
    assert half_up(figures["clinical_director"].pct) == 55


def test_synthetic_2015_against_2002_tells_the_reports_story(synthetic_2015: object) -> None:
    trend = against_published(synthetic_2015, "2002")  # type: ignore[arg-type]
    positive = trend.row("local_rating", "rating_high").cells
    manager, director = positive["directorate_manager"], positive["clinical_director"]
    assert manager is not None and director is not None
    assert (half_up(manager.then.pct), half_up(manager.now.pct)) == (44, 64)
    assert (half_up(director.then.pct), half_up(director.now.pct)) == (37, 50)
    assert manager.significant and director.significant
    assert manager.approximate and not director.approximate
    worse = trend.row("outlook_deteriorate").cells
    for group in (*ROLES, "overall"):
        change = worse[group]
        assert change is not None and change.diff > 0, group


def test_changes_use_newcombe_intervals_and_a_two_proportion_test(synthetic_2015: object) -> None:
    trend = against_published(synthetic_2015, "2002")  # type: ignore[arg-type]
    checked = 0
    for row in trend.rows:
        for change in row.cells.values():
            if change is None:
                continue
            x1, n1 = change.now.count, change.now.valid
            x2, n2 = change.then.count, change.then.valid
            diff, low, high = newcombe(x1, n1, x2, n2)
            assert (change.diff, change.ci_low, change.ci_high) == pytest.approx(
                (diff, low, high), abs=1e-9
            )
            table = [[x1, n1 - x1], [x2, n2 - x2]]
            _, p, _, expected = chi2_contingency(table, correction=False)
            if (expected >= 5).all():
                assert change.p_value == pytest.approx(p, rel=1e-6)
            checked += 1
    assert checked > 40


def test_synthetic_2015_against_published_2015_has_no_change(synthetic_2015: object) -> None:
    trend = against_published(synthetic_2015, "2015")  # type: ignore[arg-type]
    assert len(trend.rows) == sum(
        len(t["rows"]) for t in published_2015()["tables"] if isinstance(t["rows"], list)
    )
    for row in trend.rows:
        for group in ROLES:
            change = row.cells[group]
            assert change is not None and change.diff == 0, (row.item, group)


def test_a_wave_against_another_stored_wave(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    earlier = make_rows(loaded.instrument, 200, seed=21)
    import_file(store, write_rows(tmp_path / "e.csv", loaded.instrument, earlier), "earlier")
    trend = against_wave(load_wave(store, "w"), load_wave(store, "earlier"))
    assert trend.against_kind == "wave" and trend.against == "earlier"
    row = trend.row("doctors_autonomy")
    for role in loaded.instrument.role_ids():
        change = row.cells[role]
        assert change is not None
        keep = where("role", role)
        now = tally(loaded.rows, loaded.instrument, "doctors_autonomy", None, "agree", keep)
        then = tally(earlier, loaded.instrument, "doctors_autonomy", None, "agree", keep)
        assert (change.now.count, change.now.valid) == now
        assert (change.then.count, change.then.valid) == then


def test_a_wave_against_itself_changes_nothing() -> None:
    instrument = builtin("dmr-2015")
    data = wave_from_rows(instrument, make_rows(instrument, 150, seed=22))
    trend = against_wave(data, data)
    for row in trend.rows:
        for change in row.cells.values():
            if change is not None:
                assert change.diff == 0
                assert change.p_value is None or change.p_value == pytest.approx(1.0)


def test_unknown_published_year_is_refused() -> None:
    with pytest.raises(ValueError, match="known: 2002, 2015"):
        published.reference("1999")
