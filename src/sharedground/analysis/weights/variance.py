"""Linearisation variances for a stratified design without clusters, from per-stratum sums.

The design is R's ``svydesign(ids = ~1, strata = ~stratum, weights = ~w)``: every respondent
is their own primary unit, strata are the sampling strata (role groups), no finite
population correction. Every estimator here is a smooth function of weighted totals of
indicators (the cells of a table), so its influence value for respondent *i* is
``w_i * a[cell(i)]`` for a vector ``a`` over the cells, and its variance is

    sum over strata h of  n_h / (n_h - 1) * ( sum_i u_i^2 - (sum_i u_i)^2 / n_h )

with ``u_i`` zero outside the domain and ``n_h`` the stratum's size in the whole sample
(``svyrecvar``'s padding of a subset with zeros: domain estimation). Both sums only need,
per stratum and cell, the sum of weights and the sum of squared weights, so nothing here
touches respondents: `StratumSums` are computed once per column by `bincount`.

A stratum with one respondent in the whole sample is treated as R does under
``options(survey.lonely.psu = "adjust")``: its influence value is not centred and enters
squared, scale 1 (centred at the overall estimate instead of its own mean).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class StratumSums:
    """Per stratum (first axis) and cell (last axis): respondents, sum of w, sum of w^2.

    `stratum_sizes` are the strata's sizes in the whole sample (the design), not in the
    domain, as R's subsets of a stratified design keep them.
    """

    n: Floats  # strata x cells
    w: Floats  # strata x cells
    w2: Floats  # strata x cells
    stratum_sizes: Floats  # strata


def scale_and_centre(stratum_sizes: Floats) -> tuple[Floats, Floats]:
    """n_h / (n_h - 1) and 1 / n_h per stratum; a lonely stratum gets 1 and 0 (not centred)."""
    sizes = np.asarray(stratum_sizes, dtype=np.float64)
    lonely = sizes <= 1
    scale = np.where(lonely, 1.0, sizes / np.where(lonely, 2.0, sizes - 1.0))
    centre = np.where(lonely, 0.0, 1.0 / np.where(sizes > 0, sizes, 1.0))
    return scale, centre


def covariance(a: Floats, sums: StratumSums) -> Floats:
    """Covariance matrix of estimators whose influence is ``w_i * a[k, cell(i)]``.

    `a` is estimators x cells; the result is estimators x estimators.
    """
    scale, centre = scale_and_centre(sums.stratum_sizes)
    k = a.shape[0]
    out = np.zeros((k, k))
    for h in range(sums.w.shape[0]):
        if scale[h] == 0 or not sums.n[h].any():
            continue
        total = a @ sums.w[h]
        out += scale[h] * ((a * sums.w2[h]) @ a.T - centre[h] * np.outer(total, total))
    return out


def domain_count(sums: StratumSums) -> tuple[int, int]:
    """Respondents in the domain, and the strata they fall in (for degrees of freedom)."""
    per_stratum = sums.n.sum(axis=-1)
    return round(float(per_stratum.sum())), int((per_stratum > 0).sum())
