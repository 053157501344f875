"""Before/after per initiative on the synthetic scenario (planted effects) and small tables."""

from __future__ import annotations

import numpy as np
import pandas as pd
import polars as pl
import pytest

from sharedground.evaluation.beforeafter import CAVEAT, before_after
from sharedground.evaluation.tables import EvaluationInputError
from sharedground.synth.scenario import DEFAULT_KINDS, generate_scenario

ITEMS = {"agree": "agree", "rating": "rating"}


def test_every_initiative_has_both_groups_and_the_caveat() -> None:
    s = generate_scenario(21)
    results = before_after(s.pulse, ITEMS)
    assert len(results) == 2 * s.initiatives.height
    for r in results:
        assert r.caveat == CAVEAT and "secular" in r.caveat
        assert r.non_participants is not None and r.difference is not None
        tests = [t.test for t in r.participants.tests]
        assert tests == (["mcnemar"] if r.kind == "agree" else ["signed_rank", "sign"])
        first = r.participants.tests[0]
        people = s.pulse.filter(
            (pl.col("initiative_id") == r.initiative_id) & pl.col("participant")
        )
        assert first.n_pairs + first.n_lost == people.height


def test_difference_of_changes_recovers_the_planted_effect_on_average() -> None:
    """Averaged over every initiative of a kind (30+ of them), participants' change minus
    non-participants' change estimates the planted rating effect; its intervals cover it."""
    s = generate_scenario(22)
    kinds = dict(s.initiatives.select("initiative_id", "kind").iter_rows())
    results = before_after(s.pulse, {"rating": "rating"})
    for spec in DEFAULT_KINDS:
        diffs = [r.difference for r in results if kinds[r.initiative_id] == spec.name]
        estimates = [d.estimate for d in diffs if d is not None and d.estimate is not None]
        assert np.mean(estimates) == pytest.approx(spec.rating_effect, abs=0.15)
        covered = [
            d.ci_low <= spec.rating_effect <= d.ci_high
            for d in diffs
            if d is not None and d.ci_low is not None and d.ci_high is not None
        ]
        assert np.mean(covered) >= 0.85


def test_too_few_pairs_and_pandas_input() -> None:
    pulse = pl.DataFrame(
        {
            "initiative_id": [7] * 6,
            "participant": [True, True, True, True, False, False],
            "before_agree": [0, 0, 1, 0, 1, 0],
            "after_agree": [1, 1, 1, None, 1, 0],
        }
    )
    (r,) = before_after(
        pd.DataFrame(pulse.to_dict(as_series=False)), {"agree": "agree"}, min_pairs=3
    )
    t = r.participants.tests[0]
    assert (t.n_pairs, t.n_lost, t.estimate) == (3, 1, pytest.approx(2 / 3))
    assert r.non_participants is not None
    assert r.non_participants.tests[0].p_value is None  # 2 pairs < 3
    assert r.difference is not None and r.difference.estimate is None
    with pytest.raises(EvaluationInputError, match="after_rating"):
        before_after(pulse, {"rating": "rating"})
