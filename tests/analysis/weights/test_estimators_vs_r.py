"""Weighted proportions, SEs, intervals and Rao-Scott tests equal R's survey package.

R's figures are stored in r_reference.json (see make_reference.py for how they were made
and how to make them again); R is not needed to run these tests.
"""

from __future__ import annotations

from typing import Any

import pytest
from weights_reference import close, python_row, reference

CASES = [c["name"] for c in reference()["cases"] if c["name"].startswith("random-")]


def _check_row(c: dict[str, Any], row: dict[str, Any], theirs: dict[str, Any]) -> int:
    ours = python_row(c, row)
    props, checked = ours["props"], 0
    for g in theirs["groups"]:
        i = g["group"]
        where = f"{c['name']} group {i}"
        assert close(float(props.estimate[i]), g["estimate"]), where
        assert close(float(props.se[i]), g["se"]), where
        assert int(props.degf[i]) == g["degf"], where
        if 0 < g["estimate"] < 1:
            assert close(float(props.logit_low[i]), g["logit"][0]), where
            assert close(float(props.logit_high[i]), g["logit"][1]), where
            assert close(float(props.beta_low[i]), g["beta"][0]), where
            assert close(float(props.beta_high[i]), g["beta"][1]), where
        checked += 1
    assert close(float(ours["overall"].estimate[0]), theirs["overall"]["estimate"])
    assert close(float(ours["overall"].se[0]), theirs["overall"]["se"])
    for method, result in ours["tests"].items():
        if not theirs["tests"]:
            assert result is None, f"{c['name']}: R had no test"
            continue
        r = theirs["tests"][method]
        assert result is not None
        where = f"{c['name']} {method}"
        assert close(result.statistic, r["statistic"]), where
        assert close(result.p_value, r["p"]), where
        params = r["parameter"] if isinstance(r["parameter"], list) else [r["parameter"]]
        assert close(result.ndf, params[0]), where
        if method != "Chisq":
            assert close(result.ddf, params[1]), where
    return checked


@pytest.mark.parametrize("name", CASES)
def test_random_design_matches_r(name: str) -> None:
    c = next(c for c in reference()["cases"] if c["name"] == name)
    assert _check_row(c, c["rows"][0], c["r"]["rows"][0]) >= 2


def test_at_least_thirty_random_designs_with_tests() -> None:
    tested = [
        c
        for c in reference()["cases"]
        if c["name"].startswith("random-") and c["r"]["rows"][0]["tests"]
    ]
    assert len(tested) >= 30
    lonely = [c for c in tested if min(c["stratum"].count(s) for s in set(c["stratum"])) == 1]
    assert lonely, "some designs have a stratum of one respondent"


@pytest.mark.parametrize("seed", range(10))
def test_two_column_shortcut_equals_the_general_form(seed: int) -> None:
    """The O(groups^2) traces for groups x 2 tables equal svychisq's matrix route."""
    import numpy as np

    from sharedground.analysis.weights.raoscott import _traces, _traces_two_columns
    from sharedground.analysis.weights.variance import StratumSums

    rng = np.random.Generator(np.random.PCG64(seed))
    nr, h = int(rng.integers(2, 30)), int(rng.integers(1, 5))
    n = rng.integers(0, 6, (h, 2 * nr)).astype(float)
    n[0] += 1  # every cell seen at least once
    if seed % 3 == 0:
        n[:, 0] = 0  # a group where nobody is counted: a zero cell
    w = n * rng.uniform(1, 9, n.shape)
    w2 = n * rng.uniform(1, 81, n.shape)
    sums = StratumSums(n, w, w2, n.sum(axis=1) + rng.integers(0, 4, h))
    totals = w.sum(axis=0)
    pi, grand, big_n = totals / totals.sum(), totals.sum(), n.sum()
    row_of, col_of = np.tile(np.arange(nr), 2), np.repeat(np.arange(2), nr)
    fast = _traces_two_columns(sums, pi, grand, big_n, nr)
    slow = _traces(sums, pi, grand, big_n, row_of, col_of, nr, 2)
    assert np.allclose(fast, slow, rtol=1e-9)


@pytest.mark.parametrize("name", CASES)
def test_group_against_the_rest_matches_svycontrast(name: str) -> None:
    import numpy as np

    from sharedground.analysis.weights.sums import group_sums, stratum_sizes
    from sharedground.analysis.weights.tabulate import WeightedCounts
    from sharedground.analysis.weights.versus import versus_rest

    c = next(c for c in reference()["cases"] if c["name"] == name)
    row = c["rows"][0]
    strata = np.unique(np.asarray(c["stratum"]), return_inverse=True)[1].astype(np.int64)
    group = np.asarray(c["group"], dtype=np.int64)
    valid = np.asarray(row["valid"]) == 1
    answer = np.where(valid, 1 - np.asarray(row["y"]), -1)
    shape = (int(group.max()) + 2, int(strata.max()) + 1, 2)
    n, w, w2 = group_sums(np.asarray(c["weight"]), strata, group + 1, answer, shape)
    wc = WeightedCounts(
        n[None, ..., 0],
        n[None, ..., 1],
        w[None, ..., 0],
        w[None, ..., 1],
        w2[None, ..., 0],
        w2[None, ..., 1],
        stratum_sizes(strata, shape[1]),
        np.zeros(shape[0], dtype=np.int64),
    )
    versus = versus_rest(wc, 0)
    compared = 0
    for g in c["r"]["rows"][0]["groups"]:
        if g.get("versus"):
            i = g["group"]
            assert close(float(versus.diff[i]) / 100, g["versus"]["diff"]), f"{name} {i}"
            assert close(float(versus.se[i]) / 100, g["versus"]["se"]), f"{name} {i}"
            compared += 1
    assert compared >= 2
