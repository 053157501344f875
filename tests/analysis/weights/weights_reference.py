"""Reading r_reference.json and computing the same figures in Python for comparison."""

from __future__ import annotations

import json
import math
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from sharedground.analysis.weights.proportions import proportions
from sharedground.analysis.weights.raoscott import rao_scott
from sharedground.analysis.weights.sums import group_sums, stratum_sizes

REFERENCE = Path(__file__).with_name("r_reference.json")
RTOL = 1e-6


@cache
def reference() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(REFERENCE.read_text())
    return data


def case(name: str) -> dict[str, Any]:
    for c in reference()["cases"]:
        if c["name"] == name:
            return dict(c)
    raise KeyError(name)


def close(ours: float | None, theirs: float | None) -> bool:
    """Equal to 1e-6 relative (absolute 1e-12 near zero); None/NaN only with None/NaN."""
    ours_missing = ours is None or math.isnan(ours)
    if theirs is None:
        return ours_missing
    if ours_missing:
        return False
    assert ours is not None
    return math.isclose(ours, theirs, rel_tol=RTOL, abs_tol=1e-12)


def python_row(c: dict[str, Any], row: dict[str, Any]) -> dict[str, Any]:
    """The figures make_reference.R computes, from our estimators."""
    strata = np.asarray(c["stratum"], dtype=np.int64)
    strata = np.unique(strata, return_inverse=True)[1].astype(np.int64)
    weights = np.asarray(c["weight"], dtype=np.float64)
    group = np.asarray(c["group"], dtype=np.int64)
    y = np.asarray(row["y"], dtype=np.int64)
    valid = np.asarray(row["valid"], dtype=np.int64) == 1
    n_strata = int(strata.max()) + 1
    n_groups = int(group.max()) + 1
    sizes = stratum_sizes(strata, n_strata)
    answer = np.where(valid, 1 - y, -1)  # answer 0 = counted, 1 = not counted
    n, w, w2 = group_sums(weights, strata, group, answer, (n_groups, n_strata, 2))
    props = proportions(n[..., 0], n[..., 1], w[..., 0], w[..., 1], w2[..., 0], w2[..., 1], sizes)
    everyone = np.where(valid, 0, -1)
    on, ow, ow2 = group_sums(weights, strata, everyone, answer, (1, n_strata, 2))
    overall = proportions(
        on[..., 0], on[..., 1], ow[..., 0], ow[..., 1], ow2[..., 0], ow2[..., 1], sizes
    )
    tests = {m: rao_scott(n, w, w2, sizes, m) for m in ("F", "Chisq", "Wald")}
    return {"props": props, "overall": overall, "tests": tests}
