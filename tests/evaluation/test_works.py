"""The what-works verdicts follow the stated rule, row by row; BH as statsmodels computes it."""

from __future__ import annotations

from dataclasses import replace

import pytest
from statsmodels.stats.multitest import multipletests

from sharedground.evaluation.kinds import kind_effects
from sharedground.evaluation.works import RULE, what_works
from sharedground.synth.scenario import KindSpec, ScenarioConfig, generate_scenario


@pytest.fixture(scope="module")
def rows():  # type: ignore[no-untyped-def]
    kinds = (
        KindSpec("big", 0.08, 0.25),
        KindSpec("none", 0.0, 0.25),
        KindSpec("rare", 0.08, 0.02),  # 4 trusts: too few to judge
    )
    s = generate_scenario(9, replace(ScenarioConfig(), kinds=kinds))
    effects = kind_effects(s.responses, s.trusts, replicates=499)
    return what_works(effects, participants={"big": 100})


def test_too_few_trusts_give_no_p_value(rows) -> None:  # type: ignore[no-untyped-def]
    rare = [r for r in rows if r.kind == "rare"]
    assert len(rare) == 3
    for r in rare:
        assert r.trusts == 4
        assert r.verdict == "not enough to judge"
        assert r.p_value is None and r.p_adjusted is None and r.effect is None


def test_verdicts_follow_the_rule_by_hand(rows) -> None:  # type: ignore[no-untyped-def]
    judged = [r for r in rows if r.p_value is not None]
    assert len(judged) == 6
    # Benjamini-Hochberg over the judged rows only, as statsmodels computes it
    expected = multipletests([r.p_value for r in judged], method="fdr_bh")[1]
    for r, q in zip(judged, expected, strict=True):
        assert r.p_adjusted == pytest.approx(q, rel=1e-12)
    worthwhile = {"positive": 0.03, "rating": 0.12, "positive_cd": 0.03}
    for r in judged:
        if r.effect > 0 and r.ci_low > 0 and r.p_adjusted < 0.05:
            expected_verdict = "roll out"
        elif r.ci_high < worthwhile[r.measure] or (r.effect < 0 and r.p_adjusted < 0.05):
            expected_verdict = "no sign of benefit"
        else:
            expected_verdict = "keep evaluating"
        assert r.verdict == expected_verdict, r
    big = {r.measure: r for r in rows if r.kind == "big"}
    assert big["positive"].verdict == "roll out" and big["rating"].verdict == "roll out"
    assert big["positive"].participants == 100
    assert big["positive"].trusts == 50 and big["positive"].controls == 200 - 50 - 50 - 4
    # cohorts 2017-2020 of five waves: 4, 3, 2 and 1 waves after the start, equal numbers
    assert big["positive"].waves_after_start == pytest.approx(2.5, abs=0.1)
    assert "{min_trusts}" in RULE


def test_trusts_without_answers_in_a_wave_are_counted_as_left_out() -> None:
    import polars as pl

    s = generate_scenario(3, replace(ScenarioConfig(), respondents_per_trust_wave=4.0))
    effects = kind_effects(s.responses, s.trusts, replicates=99, kinds=["shadowing"])
    rows = {r.measure: r for r in what_works(effects)}
    cds = s.responses.filter(pl.col("role") == "clinical_director")
    waves_with_cd = cds.group_by("trust").agg(pl.col("wave").n_unique().alias("w"))
    chosen = s.trusts.filter((pl.col("kind") == "shadowing") | pl.col("kind").is_null())
    complete = chosen.join(waves_with_cd, on="trust", how="left").filter(
        pl.col("w") == len(s.config.waves)
    )
    assert rows["positive_cd"].left_out == chosen.height - complete.height > 0
    assert rows["positive"].left_out == 0  # every trust has someone in every wave
    assert rows["positive_cd"].trusts + rows["positive_cd"].controls == complete.height
