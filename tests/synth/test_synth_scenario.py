"""The programme scenario: its structure and that its planted effects are really in the data."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from click.testing import CliRunner

from sharedground.cli import main
from sharedground.synth.scenario import (
    DEFAULT_KINDS,
    ROLES,
    ScenarioConfig,
    generate_scenario,
)


def test_structure_and_staggered_starts() -> None:
    s = generate_scenario(5)
    config = s.config
    assert s.trusts.height == 200
    assert s.trusts["trust"].n_unique() == 200
    started = s.trusts.drop_nulls("kind")
    # every kind's trusts start in every wave but the first, in near-equal numbers
    for kind in DEFAULT_KINDS:
        cohorts = started.filter(pl.col("kind") == kind.name)["cohort"].value_counts()
        assert sorted(cohorts["cohort"].to_list()) == list(config.waves[1:])
        assert cohorts["count"].max() - cohorts["count"].min() <= 1
    never = s.trusts.filter(pl.col("kind").is_null())
    assert never["cohort"].null_count() == never.height > 50
    # one initiative per starting trust, started in the year before its cohort's wave
    assert s.initiatives.height == started.height
    assert (s.initiatives["start_date"].dt.year() == s.initiatives["cohort"] - 1).all()
    # every trust is surveyed in every wave
    assert s.responses.group_by("trust", "wave").len().height == 200 * len(config.waves)
    assert set(s.responses["role"].unique()) == set(ROLES)
    assert s.responses["rating"].is_between(1, 5).all()
    assert s.responses["positive"].is_in([0, 1]).all()
    # pulse: participants and non-participants for each initiative; about 20% lost
    counts = s.pulse.group_by("initiative_id", "participant").len()
    assert counts.height == 2 * s.initiatives.height
    lost = s.pulse["after_agree"].null_count() / s.pulse.height
    assert 0.15 < lost < 0.25
    assert (s.pulse["after_agree"].is_null() == s.pulse["after_rating"].is_null()).all()


def test_same_seed_same_scenario_other_seed_other() -> None:
    a, b, c = generate_scenario(7), generate_scenario(7), generate_scenario(8)
    assert a.responses.equals(b.responses) and a.pulse.equals(b.pulse)
    assert not a.responses.equals(c.responses)


def test_planted_effects_are_in_the_data() -> None:
    """With many respondents a plain 2x2 comparison of cell means shows the planted effects:
    the last wave against the first, trusts of the kind's 2017 cohort against never-starters."""
    s = generate_scenario(11, respondents=600_000)
    first, last = s.config.waves[0], s.config.waves[-1]
    means = (
        s.responses.join(s.trusts, on="trust")
        .filter(pl.col("wave").is_in([first, last]))
        .group_by("kind", "cohort", "wave")
        .agg(pl.col("positive").mean(), pl.col("rating").cast(pl.Float64).mean())
    )

    def mean(kind: str | None, cohort: int | None, wave: int, col: str) -> float:
        if kind is None:
            row = means.filter(pl.col("kind").is_null() & (pl.col("wave") == wave))
        else:
            row = means.filter(
                (pl.col("kind") == kind) & (pl.col("cohort") == cohort) & (pl.col("wave") == wave)
            )
        return float(row[col].item())

    for kind in DEFAULT_KINDS:
        for col, truth in (("positive", kind.effect), ("rating", kind.rating_effect)):
            did = (mean(kind.name, 2017, last, col) - mean(kind.name, 2017, first, col)) - (
                mean(None, None, last, col) - mean(None, None, first, col)
            )
            # about 9,000 respondents a cell: SE of the DiD ~0.015 (share), ~0.03 (rating);
            # the trusts' random effects cancel in the differences
            assert did == pytest.approx(truth, abs=0.05 if col == "positive" else 0.12)
    # clinical directors are the least positive role
    by_role = s.responses.group_by("role").agg(pl.col("positive").mean()).sort("positive")
    assert by_role["role"][0] == "clinical_director"
    # participants of effective kinds change more than non-participants; trend alone else
    pulse = s.pulse.join(s.initiatives.select("initiative_id", "kind"), on="initiative_id")
    change = (
        pulse.drop_nulls("after_rating")
        .group_by("kind", "participant")
        .agg((pl.col("after_rating") - pl.col("before_rating")).cast(pl.Float64).mean())
    )
    for kind in DEFAULT_KINDS:
        rows = change.filter(pl.col("kind") == kind.name).sort("participant")
        diff = float(rows["after_rating"][1] - rows["after_rating"][0])
        assert diff == pytest.approx(kind.rating_effect, abs=0.15)


def test_monthly_series_steps_at_the_start() -> None:
    s = generate_scenario(4, replace(ScenarioConfig(), monthly_respondents=400.0))
    monthly = s.monthly.join(s.initiatives.select("initiative_id", "kind"), on="initiative_id")
    shares = monthly.group_by("kind", "after_start").agg(
        (pl.col("positive").sum() / pl.col("n").sum()).alias("share")
    )
    trend_step = s.config.trend * 18 / 12  # mean months after minus mean before, in years
    for kind in DEFAULT_KINDS:
        rows = shares.filter(pl.col("kind") == kind.name).sort("after_start")
        step = float(rows["share"][1] - rows["share"][0])
        assert step == pytest.approx(kind.effect + trend_step, abs=0.02)


def test_refuses_probabilities_outside_the_unit_interval() -> None:
    with pytest.raises(ValueError, match="leave"):
        generate_scenario(1, replace(ScenarioConfig(), base=0.9))


def test_cli_writes_the_tables(tmp_path: Path) -> None:
    out = tmp_path / "programme"
    result = CliRunner().invoke(
        main,
        ["synth", "--scenario", "programme", "--seed", "3", "--trusts", "40", "--out", str(out)],
    )
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    assert names == {f"{n}.csv" for n in generate_scenario(3).tables()}
    trusts = pl.read_csv(out / "trusts.csv")
    assert trusts.height == 40
    again = generate_scenario(3, replace(ScenarioConfig(), trusts=40))
    assert np.array_equal(
        pl.read_csv(out / "responses.csv")["positive"], again.responses["positive"]
    )
