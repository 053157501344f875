"""The synthetic sample frame behind a cohort (the demo's population to rake to)."""

from __future__ import annotations

import polars as pl
import pytest

from sharedground import synth
from sharedground.synth.frame import COLUMNS, published_rates, sample_frame


@pytest.fixture(scope="module")
def cohort() -> pl.DataFrame:
    return synth.generate("2015", seed=2015)


def test_the_frame_holds_every_respondent_and_the_published_rates(cohort: pl.DataFrame) -> None:
    people = sample_frame(cohort, seed=7)
    assert people.columns == [*COLUMNS, "respondent"]
    # Every respondent once, in their own trust and role.
    answered = people.filter(pl.col("respondent").is_not_null())
    assert sorted(answered["respondent"].to_list()) == sorted(cohort["respondent_id"].to_list())
    joined = answered.join(
        cohort.select(pl.col("respondent_id").alias("respondent"), "role", "trust"),
        on="respondent",
    )
    assert (joined["role"] == joined["role_right"]).all()
    assert (joined["trust"] == joined["trust_right"]).all()
    # Frame size by role = respondents / published rate (59 / 0.34 -> 174, ...).
    rates = published_rates()
    assert rates == {
        "chief_executive": 0.34,
        "medical_director": 0.41,
        "directorate_manager": 0.13,
        "clinical_director": 0.09,
    }
    sizes = dict(people.group_by("role").len().iter_rows())
    answered_by_role = dict(cohort.group_by("role").len().iter_rows())
    for role, rate in rates.items():
        assert sizes[role] == round(answered_by_role[role] / rate)
    assert sizes == {
        "chief_executive": 174,
        "medical_director": 320,
        "directorate_manager": 1015,
        "clinical_director": 1667,
    }
    # Unique placeholder addresses on the reserved domain; only the cohort's trusts.
    assert people["email"].n_unique() == people.height
    assert people["email"].str.ends_with("@example.org").all()
    assert set(people["trust"]) == set(cohort["trust"].drop_nulls())


def test_the_frame_is_seeded_and_rates_are_checked(cohort: pl.DataFrame) -> None:
    assert sample_frame(cohort, seed=1).equals(sample_frame(cohort, seed=1))
    assert not sample_frame(cohort, seed=1).equals(sample_frame(cohort, seed=2))
    with pytest.raises(ValueError, match="response rate of chief_executive"):
        sample_frame(cohort, {"chief_executive": 0.0})
    # A role without a rate keeps only its respondents.
    only = sample_frame(cohort, {"chief_executive": 0.5})
    assert only.filter(pl.col("role") == "medical_director")["respondent"].null_count() == 0
