"""Random stratified designs for the comparison with R (generated once, stored with R's output).

`make_reference.py` writes these designs, with R's figures for them, into
`r_reference.json`; the tests read the designs back from that file (not from this
generator), so a change in NumPy's random streams cannot silently change what is compared.
"""

from __future__ import annotations

from typing import Any

import numpy as np


def random_design(seed: int) -> dict[str, Any]:
    """One design: strata, weights, groups (-1 = none), a 0/1 answer and a valid flag."""
    rng = np.random.Generator(np.random.PCG64(seed))
    n = int(rng.integers(40, 400))
    n_strata = int(rng.integers(2, 6))
    n_groups = int(rng.integers(2, 7))
    strata = rng.integers(0, n_strata, n)
    if seed % 5 == 0:
        strata[0] = n_strata  # a lonely stratum (one respondent in the whole sample)
        n_strata += 1
    base = rng.uniform(1, 20, n_strata)
    weights = np.round(base[strata] * rng.lognormal(0, 0.4, n), 6)
    group = rng.integers(0, n_groups, n)
    group[rng.random(n) < 0.05] = -1
    levels = rng.uniform(0.15, 0.85, n_groups)
    y = (rng.random(n) < levels[group]).astype(int)
    if seed % 7 == 0:
        y[group == 0] = 1  # a group where everyone is counted
    valid = (rng.random(n) < 0.88).astype(int)
    return {
        "seed": seed,
        "stratum": strata.tolist(),
        "weight": weights.tolist(),
        "group": group.tolist(),
        "y": y.tolist(),
        "valid": valid.tolist(),
    }


def random_raking(seed: int) -> dict[str, Any]:
    """Respondents by role and trust with base weights, and population counts to rake to."""
    rng = np.random.Generator(np.random.PCG64(1000 + seed))
    n = int(rng.integers(60, 500))
    roles = ["ce", "md", "cd", "dm"]
    trusts = [f"T{k:02d}" for k in range(int(rng.integers(3, 12)))]
    role = rng.choice(len(roles), n, p=[0.1, 0.15, 0.4, 0.35])
    trust = rng.integers(0, len(trusts), n)
    fractions = np.array([1.0, 1.0, 0.1, 0.16])
    postal = rng.random(n) < 0.2
    base = np.where(postal, 1 / fractions[role], 1.0)
    counts = np.zeros((len(roles), len(trusts)))
    np.add.at(counts, (role, trust), 1)
    # population: each sampled cell 2-12 times its respondents, response rates unequal
    pop = np.round(counts * rng.uniform(2, 12, counts.shape))
    cap = float(np.quantile(base * 8, 0.9))
    cells = [(r, t) for r in range(len(roles)) for t in range(len(trusts)) if pop[r, t] > 0]
    return {
        "kind": "rake",
        "name": f"rake-{seed}",
        "role": [roles[r] for r in role],
        "trust": [trusts[t] for t in trust],
        "base": base.tolist(),
        "pop_role": {roles[r]: float(pop[r].sum()) for r in range(len(roles)) if pop[r].sum()},
        "pop_trust": {
            trusts[t]: float(pop[:, t].sum()) for t in range(len(trusts)) if pop[:, t].sum()
        },
        "cross_role": [roles[r] for r, _ in cells],
        "cross_trust": [trusts[t] for _, t in cells],
        "cross_count": [float(pop[r, t]) for r, t in cells],
        "cap": cap,
    }
