"""Raking, post-stratification and trimming give R's weights; what cannot be weighted stops."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest
from weights_reference import reference

from sharedground.analysis.weights.margins import collapse, cross_margin
from sharedground.analysis.weights.raking import (
    Margin,
    WeightingError,
    kish,
    post_stratify,
    rake,
    trim,
)

RAKES = [c for c in reference()["cases"] if c.get("kind") == "rake"]


def _margin(name: str, values: list[str], totals: dict[str, float]) -> Margin:
    labels = sorted(totals)
    codes = np.array([labels.index(v) for v in values], dtype=np.int64)
    return Margin(name, codes, labels, np.array([totals[k] for k in labels]))


def _close(ours: np.ndarray, theirs: list[float]) -> bool:
    return bool(np.allclose(ours, np.asarray(theirs), rtol=1e-6, atol=0))


@pytest.mark.parametrize("c", RAKES, ids=[c["name"] for c in RAKES])
def test_weights_equal_r(c: dict[str, Any]) -> None:
    base = np.asarray(c["base"])
    margins = [
        _margin("role", c["role"], c["pop_role"]),
        _margin("trust", c["trust"], c["pop_trust"]),
    ]
    raked = rake(base, margins, maxit=50, epsilon=1)
    assert _close(raked.weights, c["r"]["raked"])
    cross = {
        f"{r} x {t}": n
        for r, t, n in zip(c["cross_role"], c["cross_trust"], c["cross_count"], strict=True)
    }
    keys = [f"{r} x {t}" for r, t in zip(c["role"], c["trust"], strict=True)]
    assert _close(post_stratify(base, _margin("cell", keys, cross)), c["r"]["post"])
    assert _close(trim(raked.weights, c["cap"]), c["r"]["trimmed"])


def test_thirty_raking_cases() -> None:
    assert len(RAKES) >= 30
    assert any(not np.allclose(c["r"]["raked"], c["r"]["trimmed"]) for c in RAKES)


def test_kish_design_effect_by_hand() -> None:
    k = kish(np.array([1.0, 1.0, 2.0, 4.0]))
    # n * sum(w^2) / sum(w)^2 = 4 * 22 / 64; effective n = 64 / 22
    assert k.deff == pytest.approx(88 / 64) and k.effective_n == pytest.approx(64 / 22)


def test_a_cell_with_people_but_no_respondents_is_named() -> None:
    m = _margin("trust", ["A", "A"], {"A": 10, "B": 5})
    with pytest.raises(WeightingError, match=r"trust 'B'.*no respondents"):
        post_stratify(np.ones(2), m)


def test_a_zero_population_with_respondents_is_named() -> None:
    m = _margin("role", ["ce", "md"], {"ce": 0, "md": 5})
    with pytest.raises(WeightingError, match=r"role 'ce'.*population total of zero"):
        post_stratify(np.ones(2), m)


def test_raking_that_does_not_converge_names_the_cell() -> None:
    # nobody in (x, q): x needs 1000 but p holds only 500, so the weights keep moving
    a = _margin("role", ["x", "y", "y"], {"x": 1000, "y": 1000})
    b = _margin("trust", ["p", "p", "q"], {"p": 500, "q": 1500})
    with pytest.raises(WeightingError, match=r"did not converge in 5 sweeps: (role|trust) '"):
        rake(np.ones(3), [a, b], maxit=5)


def test_margins_that_disagree_are_refused() -> None:
    a = _margin("role", ["x", "y", "x", "y"], {"x": 5, "y": 5})
    b = _margin("trust", ["p", "p", "q", "q"], {"p": 10, "q": 10})
    with pytest.raises(
        WeightingError, match="margins disagree: role adds up to 10 people but trust to 20"
    ):
        rake(np.ones(4), [a, b])


def test_thin_cells_are_pooled_and_said() -> None:
    m = _margin("trust", ["A"] * 9 + ["B"] * 3 + ["C"] * 3, {"A": 90, "B": 20, "C": 30})
    pooled = collapse(m, min_cell=5)
    assert pooled.labels == ["A", "B + C"]
    assert pooled.totals.tolist() == [90, 50]
    assert "2 cells with fewer than 5 respondents pooled (B, C; 6 respondents" in pooled.notes[0]
    still_thin = collapse(_margin("t", ["A"] * 9 + ["B", "C"], {"A": 9, "B": 1, "C": 1}), 5)
    assert still_thin.labels == ["A + B + C"]  # pooled and still thin: joins the smallest other
    single = collapse(_margin("t", ["A"] * 9 + ["B"] * 6 + ["C"], {"A": 9, "B": 6, "C": 1}), 5)
    assert single.labels == ["A", "B + C"]  # one thin cell joins the smallest other


def test_cross_cells_pool_within_the_role() -> None:
    roles = ["ce"] * 6 + ["ce", "ce"] + ["md"] * 7
    trusts = ["T1"] * 6 + ["T2", "T3"] + ["T1"] * 7
    population = {("ce", "T1"): 6, ("ce", "T2"): 3, ("ce", "T3"): 2, ("md", "T1"): 7}
    m = cross_margin(pl.Series(roles), pl.Series(trusts), population, min_cell=5)
    assert sorted(m.labels) == ["ce x T1 + ce x T2 + ce x T3", "md x T1"]
    assert m.totals.sum() == 18
