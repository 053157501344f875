"""The scenario's pulse answers: one initiative's participants and non-participants, before
and after.

Every initiative has `participants` people in it and `non_participants` colleagues of the same
trust who answer the same short pulse questionnaire at the start and again about a year later.
A person's answers are correlated (a person effect), some are lost to follow-up (no second
answer). Between the two answers everyone moves with the common trend; participants move by
their kind's planted effect besides, non-participants do not (so the comparison of the two is
what separates the initiative from what happened to everyone).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from sharedground.synth.scenario import ScenarioConfig

from sharedground.synth.scenario import ROLE_SHARES, ROLE_SHIFTS, ROLES


def pulse_answers(
    rng: np.random.Generator,
    config: ScenarioConfig,
    initiatives: pl.DataFrame,
    u: np.ndarray,
    codes: list[str],
    effects: np.ndarray,
    names: list[str],
) -> pl.DataFrame:
    """One row per person: initiative_id, trust, person, role, participant, before_* and after_*
    (after_* null when lost to follow-up)."""
    index_of = {c: i for i, c in enumerate(codes)}
    per = config.participants + config.non_participants
    n_init = initiatives.height
    total = n_init * per
    init_ids = np.repeat(initiatives["initiative_id"].to_numpy(), per)
    trust_i = np.repeat([index_of[t] for t in initiatives["trust"].to_list()], per).astype(int)
    kind_i = np.repeat([names.index(k) for k in initiatives["kind"].to_list()], per).astype(int)
    participant = np.tile(
        np.r_[np.ones(config.participants, bool), np.zeros(config.non_participants, bool)],
        n_init,
    )
    role = rng.choice(len(ROLES), size=total, p=np.array(ROLE_SHARES))
    person = config.person_sd * np.clip(rng.standard_normal(total), -3, 3)
    p_before = config.base + (u[trust_i] if total else 0.0) + np.array(ROLE_SHIFTS)[role] + person
    p_after = p_before + config.trend + np.where(participant, effects[kind_i], 0.0)
    lost = rng.random(total) < config.lost_to_follow_up

    def answers(p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        agree = (rng.random(p.size) < p).astype(np.int8)
        rating = (1 + rng.binomial(4, p - 0.05)).astype(np.int8)
        return agree, rating

    before_agree, before_rating = answers(p_before)
    after_agree, after_rating = answers(p_after)
    return pl.DataFrame(
        {
            "initiative_id": init_ids.astype(np.int64),
            "trust": pl.Series(codes, dtype=pl.String)[trust_i],
            "person": np.arange(1, total + 1, dtype=np.int64),
            "role": pl.Series(ROLES, dtype=pl.String)[role],
            "participant": participant,
            "before_agree": before_agree,
            "after_agree": pl.Series(after_agree).set(pl.Series(lost), None)
            if total
            else after_agree,
            "before_rating": before_rating,
            "after_rating": pl.Series(after_rating).set(pl.Series(lost), None)
            if total
            else after_rating,
        }
    )
