"""A synthetic sample frame for a synthetic cohort: everyone who was asked, by trust and role.

The demo's 2015 wave needs a frame for what a real wave has: response rates in `status`,
and a population to rake to (`analyse --weights raked`). Its size by role follows the
published response rates (Powell & Davies 2016, methods: chief executives 34%, medical
directors 41%, directorate managers 13%, clinical directors 9%; so 59 chief executives
who responded stand for about 174 asked). Everyone who responded is in the frame, in
their trust; the rest of each role is spread over the trusts in proportion to the
trust's respondents plus one (so a trust where nobody of a role answered still has some
of that role asked), by a seeded multinomial draw. Names and addresses are placeholders
on the reserved domain example.org.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import polars as pl

from sharedground.reference import published_2015

#: The frame's columns, those `sharedground contacts import` reads.
COLUMNS = ("name", "email", "postal_address", "role", "trust", "directorate")


def published_rates() -> dict[str, float]:
    """The 2015 response rates by role, from the published report's methods."""
    rates = published_2015()["study"]["respondents"]["response_rate_by_group"]
    return {str(role): float(rate) for role, rate in rates.items()}


def sample_frame(
    cohort: pl.DataFrame, rates: Mapping[str, float] | None = None, seed: int = 2015
) -> pl.DataFrame:
    """The frame behind `cohort` (columns `role`, `trust`): one row per person asked.

    Returns the contacts (`COLUMNS`) with, for those who responded, `respondent` (the
    cohort's respondent_id); the others have none. Roles without a rate keep only their
    respondents.
    """
    rates = dict(published_rates() if rates is None else rates)
    for role, rate in rates.items():
        if not 0 < rate <= 1:
            raise ValueError(f"response rate of {role} must be in (0, 1], not {rate}")
    rng = np.random.default_rng(seed)
    cohort = cohort.filter(pl.col("trust").is_not_null() & pl.col("role").is_not_null())
    trusts = sorted(cohort["trust"].unique().to_list())
    parts: list[pl.DataFrame] = []
    for role in sorted(cohort["role"].unique().to_list()):
        answered = cohort.filter(pl.col("role") == role)
        parts.append(
            answered.select(
                pl.col("role"), pl.col("trust"), pl.col("respondent_id").alias("respondent")
            )
        )
        if role not in rates:
            continue
        extra = max(round(answered.height / rates[role]) - answered.height, 0)
        per_trust = answered.group_by("trust").len()
        size = dict(zip(per_trust["trust"].to_list(), per_trust["len"].to_list(), strict=True))
        weights = np.array([size.get(t, 0) + 1 for t in trusts], dtype=float)
        drawn = rng.multinomial(extra, weights / weights.sum())
        parts.append(
            pl.DataFrame(
                {
                    "role": [role] * extra,
                    "trust": [t for t, k in zip(trusts, drawn, strict=True) for _ in range(k)],
                    "respondent": pl.Series([None] * extra, dtype=answered["respondent_id"].dtype),
                }
            )
        )
    people = pl.concat(parts).sort(["trust", "role", "respondent"], nulls_last=True)
    number = pl.int_range(1, people.height + 1).cast(pl.String)
    return people.with_columns(
        name=pl.lit("Contact ") + number,
        email=pl.lit("contact") + number + pl.lit("@example.org"),
        postal_address=pl.lit(None, dtype=pl.String),
        directorate=pl.lit(None, dtype=pl.String),
    ).select(*COLUMNS, "respondent")
