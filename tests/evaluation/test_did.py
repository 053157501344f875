"""Callaway & Sant'Anna group-time effects: equal to the `differences` library's, to the
two-way fixed-effects regression where the two must agree, and sound on hand-made panels."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from sharedground.evaluation.did import Panel, callaway_santanna, panel_from_long
from sharedground.evaluation.kinds import DEFAULT_MEASURES, kind_effects, trust_means
from sharedground.synth.scenario import generate_scenario


def _staggered(seed: int, n: int = 40, periods: int = 5) -> Panel:
    rng = np.random.default_rng(seed)
    cohort = rng.choice([0, 2, 3, 4, 5], size=n)
    t = np.arange(1, periods + 1)
    treated = (cohort[:, None] > 0) & (t[None, :] >= cohort[:, None])
    y = rng.normal(size=(n, 1)) + 0.1 * t + rng.normal(size=(n, periods)) + 0.5 * treated
    return Panel(np.arange(n), t, y, cohort)


# the library's own use of pandas is what these warnings are about, not ours
@pytest.mark.filterwarnings("ignore::FutureWarning", "ignore::DeprecationWarning")
@pytest.mark.filterwarnings("ignore:The inplace keyword")
@pytest.mark.parametrize(
    ("control", "library_control"), [("never", "never_treated"), ("notyet", "not_yet_treated")]
)
def test_equals_the_differences_library(control: str, library_control: str) -> None:
    """ATT(g,t), the simple and the event-time aggregates and their analytic standard errors
    equal `differences.ATTgt` (outcome regression, no covariates, varying base) to 1e-9."""
    differences = pytest.importorskip("differences")
    panel = _staggered(1)
    n, periods = panel.y.shape
    long = pd.DataFrame(
        {
            "id": np.repeat(panel.units, periods),
            "t": np.tile(panel.periods, n),
            "cohort": np.repeat(np.where(panel.cohort == 0, np.nan, panel.cohort), periods),
            "y": panel.y.ravel(),
        }
    ).set_index(["id", "t"])
    model = differences.ATTgt(data=long, cohort_column="cohort")
    model.fit(formula="y", control_group=library_control, progress_bar=False)
    theirs = model.results()
    theirs.columns = ["_".join(map(str, c)) for c in theirs.columns]
    mine = callaway_santanna(panel, control=control, replicates=9)  # type: ignore[arg-type]
    assert len(mine.cells) == len(theirs) == 16
    for cell, (_, row) in zip(mine.cells, theirs.iterrows(), strict=True):
        assert cell.att == pytest.approx(row.iloc[0], abs=1e-9)
        assert cell.se_analytic == pytest.approx(row.iloc[1], abs=1e-9)
    simple = model.aggregate("simple")
    assert mine.overall is not None
    assert mine.overall.att == pytest.approx(simple.iloc[0, 0], abs=1e-9)
    assert mine.overall.se_analytic == pytest.approx(simple.iloc[0, 1], abs=1e-9)
    event = model.aggregate("event")
    assert [e.event_time for e in mine.event] == list(event.index)
    for e, (_, row) in zip(mine.event, event.iterrows(), strict=True):
        assert e.att == pytest.approx(row.iloc[0], abs=1e-9)
        assert e.se_analytic == pytest.approx(row.iloc[1], abs=1e-9)


def test_two_periods_equal_the_two_way_fixed_effects_regression() -> None:
    """With one cohort and two periods, DiD is the TWFE coefficient (statsmodels OLS with trust
    and period dummies), and the overall effect is that single cell."""
    import statsmodels.formula.api as smf

    rng = np.random.default_rng(5)
    n = 30
    cohort = np.where(np.arange(n) < 12, 2, 0)
    y = rng.normal(size=(n, 1)) + rng.normal(size=(n, 2)) + np.c_[np.zeros(n), 0.7 * (cohort > 0)]
    panel = Panel(np.arange(n), np.array([1, 2]), y, cohort)
    mine = callaway_santanna(panel, replicates=99)
    long = pd.DataFrame(
        {
            "unit": np.repeat(np.arange(n), 2),
            "period": np.tile([1, 2], n),
            "d": np.repeat(cohort > 0, 2) & np.tile([False, True], n),
            "y": y.ravel(),
        }
    )
    fit = smf.ols("y ~ d + C(unit) + C(period)", data=long.assign(d=long.d.astype(float))).fit()
    assert mine.overall is not None
    assert mine.overall.att == pytest.approx(fit.params["d"], abs=1e-10)
    assert len(mine.cells) == 1 and mine.cells[0].att == pytest.approx(fit.params["d"], abs=1e-10)


def test_exact_recovery_without_noise_and_parallel_trends() -> None:
    """No noise: every post-start cell is the effect, every pre-start cell zero, whatever the
    trusts' levels and the common (non-linear) trend."""
    n, periods = 24, np.array([2016, 2017, 2018, 2019])
    cohort = np.array([0] * 8 + [2017] * 5 + [2018] * 6 + [2019] * 5)
    level = np.linspace(-1, 1, n)[:, None]
    trend = np.array([0.0, 0.3, 0.1, 0.8])[None, :]
    effect = 0.25 * ((cohort[:, None] > 0) & (periods[None, :] >= cohort[:, None]))
    panel = Panel(np.arange(n), periods, level + trend + effect, cohort)
    for control in ("never", "notyet"):
        result = callaway_santanna(panel, control=control, replicates=19)  # type: ignore[arg-type]
        for cell in result.cells:
            expected = (
                0.25
                if cell.period is not None
                and cell.cohort is not None
                and cell.period >= cell.cohort
                else 0.0
            )
            assert cell.att == pytest.approx(expected, abs=1e-12)
        assert result.overall is not None and result.overall.att == pytest.approx(0.25)
        assert [e.event_time for e in result.event] == [-2, -1, 0, 1, 2]


def test_panel_from_long_drops_incomplete_units() -> None:
    long = pl.DataFrame(
        {
            "trust": ["A", "A", "B", "B", "C"],
            "wave": [1, 2, 1, 2, 1],
            "y": [1.0, 2.0, 3.0, 5.0, 0.0],
            "cohort": [2, 2, None, None, None],
        }
    )
    panel = panel_from_long(long, unit="trust", time="wave", outcome="y", cohort="cohort")
    assert panel.units.tolist() == ["A", "B"] and panel.dropped == 1
    assert panel.cohort.tolist() == [2, 0]
    result = callaway_santanna(panel, replicates=9)
    assert result.cells[0].att == pytest.approx((2 - 1) - (5 - 3))


def test_trust_means_weigh_each_trust_once_and_filter_roles() -> None:
    s = generate_scenario(2)
    means = trust_means(s.responses, DEFAULT_MEASURES[0])
    check = (
        s.responses.filter((pl.col("trust") == "T007") & (pl.col("wave") == 2018))["positive"]
        .cast(pl.Float64)
        .mean()
    )
    got = means.filter((pl.col("trust") == "T007") & (pl.col("wave") == 2018))["value"].item()
    assert got == pytest.approx(check)
    cd = trust_means(s.responses, DEFAULT_MEASURES[2])
    assert cd["n"].sum() == s.responses.filter(pl.col("role") == "clinical_director").height


def test_kind_effects_on_one_scenario() -> None:
    s = generate_scenario(3)
    effects = kind_effects(s.responses, s.trusts, replicates=199)
    assert len(effects) == 4 * len(DEFAULT_MEASURES)
    for e in effects:
        r = e.result
        size = s.trusts.filter(pl.col("kind") == e.kind).height
        assert r.n_treated_units == size
        assert r.n_units == size + s.trusts["kind"].null_count() - r.dropped
        assert r.overall is not None and r.overall.ci_low < r.overall.att < r.overall.ci_high
        assert r.uniform_crit is not None and r.uniform_crit > 1.96


def test_cohorts_after_the_last_wave_are_controls_and_odd_cohorts_refused() -> None:
    from sharedground.evaluation.tables import EvaluationInputError

    rng = np.random.default_rng(4)
    y = rng.normal(size=(12, 3))
    later = Panel(np.arange(12), np.array([1, 2, 3]), y, np.array([0] * 6 + [2] * 3 + [9] * 3))
    as_never = Panel(later.units, later.periods, y, np.array([0] * 6 + [2] * 3 + [0] * 3))
    a = callaway_santanna(later, replicates=9)
    b = callaway_santanna(as_never, replicates=9)
    assert [c.att for c in a.cells] == [c.att for c in b.cells]
    assert a.cells[0].n_control == 9
    odd = Panel(later.units, later.periods, y, np.array([0] * 6 + [2] * 3 + [3] * 2 + [0]))
    callaway_santanna(odd, replicates=9)  # 3 is a wave: fine
    with pytest.raises(EvaluationInputError, match="not waves"):
        bad = np.array([0] * 6 + [2] * 3 + [1] * 2 + [0])
        callaway_santanna(Panel(later.units, np.array([0, 2, 3]), y, bad), replicates=9)


def test_trusts_from_register_gives_the_scenarios_cohorts() -> None:
    import datetime as dt

    from sharedground.evaluation.kinds import trusts_from_register

    s = generate_scenario(12)
    waves = {w: dt.date(w, 3, 1) for w in s.config.waves}  # fielded each spring
    got = trusts_from_register(s.initiatives, waves, s.trusts["trust"].to_list())
    assert got.select("trust", "kind", "cohort").equals(s.trusts)
    # a second, later initiative of another kind: the first one counts, the other is listed
    starter = s.initiatives.filter(pl.col("cohort") < 2020)["trust"][0]
    extra = pl.DataFrame(
        {"trust": [starter], "kind": ["shadowing"], "start_date": [dt.date(2019, 12, 1)]}
    )
    more = pl.concat([s.initiatives.select("trust", "kind", "start_date"), extra])
    row = trusts_from_register(more, waves, [starter]).row(0, named=True)
    first = s.trusts.filter(pl.col("trust") == starter).row(0, named=True)
    assert (row["kind"], row["cohort"]) == (first["kind"], first["cohort"])
    assert row["other_kinds"] == ["shadowing"]
    # started after the last wave: not a starter here
    late = pl.DataFrame({"trust": ["X"], "kind": ["k"], "start_date": [dt.date(2021, 1, 1)]})
    row = trusts_from_register(late, waves, ["X"]).row(0, named=True)
    assert row["kind"] is None and row["cohort"] is None
