"""Answers hang together: correlated attitudes, trusts that differ, plausible comments."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from scipy import stats

from sharedground.synth import generate, templates
from sharedground.synth.comments import COMMENT_RATES

#: Statements about the relationship itself, all worded positively.
CORE = [
    "power_balance_right",
    "managers_high_quality",
    "agree_on_goals",
    "management_feedback",
    "focus_on_patient_need",
    "decisions_fair",
    "doctors_confident_in_managers",
    "work_as_team",
    "improvement_in_partnership",
    "openness_honesty_challenge",
]
SCORES = {"strongly_agree": 4, "tend_to_agree": 3, "tend_to_disagree": 2, "strongly_disagree": 1}


def _scored(frame: pl.DataFrame, items: list[str]) -> np.ndarray:
    return frame.select(
        pl.col(i).replace_strict(SCORES, default=None, return_dtype=pl.Float64) for i in items
    ).to_numpy()


def _mean_spearman(values: np.ndarray) -> float:
    rhos = []
    for a, b in itertools.combinations(range(values.shape[1]), 2):
        both = ~np.isnan(values[:, a]) & ~np.isnan(values[:, b])
        rhos.append(stats.spearmanr(values[both, a], values[both, b]).statistic)
    return float(np.mean(rhos))


def test_attitudes_are_correlated(cohort_2015: pl.DataFrame) -> None:
    assert _mean_spearman(_scored(cohort_2015, CORE)) > 0.2
    # Within one group too (not only through the differences between groups).
    clinical = cohort_2015.filter(pl.col("role") == "clinical_director")
    assert _mean_spearman(_scored(clinical, CORE)) > 0.15


def test_orientation_of_negative_and_reverse_items(cohort_10k: pl.DataFrame) -> None:
    team = _scored(cohort_10k, ["work_as_team"])[:, 0]
    for item, sign in [
        ("outlook_deteriorate", -1),
        ("pressure_early_discharge", -1),
        ("financial_over_clinical", -1),
        ("outlook_improve", 1),
    ]:
        other = _scored(cohort_10k, [item])[:, 0]
        both = ~np.isnan(team) & ~np.isnan(other)
        rho = stats.spearmanr(team[both], other[both]).statistic
        assert sign * rho > 0.1, f"{item}: {rho:.2f}"
    trust_barrier = cohort_10k["barriers"].str.contains("lack_trust").fill_null(False).to_numpy()
    both = ~np.isnan(team)
    assert team[both & trust_barrier].mean() < team[both & ~trust_barrier].mean()


def test_trusts_differ() -> None:
    frame = generate("2015", seed=4, respondents=3000, trusts=30)
    scored = _scored(frame, CORE)
    answered = (~np.isnan(scored)).sum(axis=1)
    keep = answered > 0
    composite = np.where(keep, np.nansum(scored, axis=1) / np.maximum(answered, 1), np.nan)
    trusts = frame["trust"].to_numpy()
    groups = [composite[keep & (trusts == t)] for t in np.unique(trusts)]
    assert stats.f_oneway(*groups).pvalue < 1e-4
    # Initiatives are mostly a property of the trust.
    yes = (frame["initiatives:paired_learning"] == "yes").fill_null(False).to_numpy()
    answered = frame["initiatives:paired_learning"].is_in(["yes", "no"]).fill_null(False).to_numpy()
    shares = [yes[answered & (trusts == t)].mean() for t in np.unique(trusts)]
    assert np.std(shares) > 0.1


def test_comment_rates_and_personal_data(cohort_2015: pl.DataFrame) -> None:
    for box in COMMENT_RATES:
        share = cohort_2015[box].is_not_null().mean()
        assert 0.14 <= share <= 0.23, box
    texts = pl.concat([cohort_2015[box].drop_nulls() for box in COMMENT_RATES])
    assert texts.str.contains(r"[\w.]+@example\.org").sum() >= 1
    assert texts.str.contains(r"\b0(1632 960|7700 900)\d{3}\b").sum() >= 1
    assert texts.str.contains(r"\bDr [A-Z][a-z]+").sum() >= 1
    flagged = texts.str.contains(r"@|\b0(1632|7700) \d{6}\b|\b(Dr|Mrs) [A-Z]")
    assert 3 <= flagged.sum() <= max(3, 0.03 * texts.len())
    assert not texts.str.contains(r"\{|\}").any(), "every slot filled"


def test_personal_data_is_caught_by_the_anonymiser(cohort_2015: pl.DataFrame) -> None:
    anonymise = pytest.importorskip("sharedground.report.anonymise").anonymise
    texts = pl.concat([cohort_2015[box].drop_nulls() for box in COMMENT_RATES]).to_list()
    scrubbed = [anonymise(t) for t in texts]
    changed = [s for t, s in zip(texts, scrubbed, strict=True) if s != t]
    assert len(changed) >= 3
    for text in scrubbed:
        assert not re.search(r"@|\d{6}|\b(Dr|Mrs) [A-Z][a-z]", text), text


def test_comments_follow_the_answers(cohort_2015: pl.DataFrame) -> None:
    have = cohort_2015.filter(pl.col("comments_initiatives").str.contains("paired learning"))
    # "paired learning" is only named as an initiative the respondent has, or one they lack.
    assert have["initiatives:paired_learning"].is_in(["yes", "no"]).all()


def test_one_comment_names_two_different_factors_where_it_can(cohort_10k: pl.DataFrame) -> None:
    pattern = r"cut both ways: (.+) helped but (.+) undid"
    both = cohort_10k.select(
        pl.col("comments_factors").str.extract(pattern, 1).alias("good"),
        pl.col("comments_factors").str.extract(pattern, 2).alias("bad"),
        pl.col("factors_negative").str.split(";").list.len().alias("ticked"),
    ).drop_nulls()
    assert both.height > 0
    assert (both.filter(pl.col("good") == pl.col("bad"))["ticked"] == 1).all()
    assert (both["good"] != both["bad"]).mean() > 0.5


def test_template_pools_are_varied() -> None:
    for pool in (
        templates.OVERALL,
        templates.STATEMENTS,
        templates.BARRIERS,
        templates.FACTORS,
        templates.INITIATIVES,
        templates.FINAL,
    ):
        assert 8 <= sum(len(v) for v in pool.values()) <= 15
    assert 8 <= len(templates.BARRIER_OTHER) <= 15


def _seeds() -> Path | None:
    override = os.environ.get("SHAREDGROUND_SEEDS")
    path = Path(override) if override else Path(__file__).resolve().parents[3] / "shared" / "seeds"
    return path if path.is_dir() else None


def _shingles(text: str, size: int) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9']+", text.lower().replace("’", "'"))
    return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}


@pytest.mark.skipif(_seeds() is None, reason="the source documents (shared/seeds) are not here")
def test_no_text_from_the_source_documents(cohort_2015: pl.DataFrame) -> None:
    seeds = _seeds()
    assert seeds is not None
    corpus = "\n".join(p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt")))
    quotations = re.findall(r"“([^”\n]{30,1000})”", corpus)
    assert quotations, "expected the respondents' quotations in the report"
    quoted = set().union(*(_shingles(q, 5) for q in quotations))
    anywhere = _shingles(corpus, 8)
    texts = pl.concat([cohort_2015[c].drop_nulls() for c in COMMENT_RATES]).to_list()
    sentences = [
        t
        for name in dir(templates)
        if name.isupper()
        for value in [getattr(templates, name)]
        for t in (
            value
            if isinstance(value, tuple)
            else [s for v in value.values() if isinstance(v, tuple) for s in v]
            if isinstance(value, dict)
            else []
        )
    ]
    for text in texts + sentences:
        assert not _shingles(text, 5) & quoted, text
        assert not _shingles(text, 8) & anywhere, text
