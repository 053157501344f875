"""Weighted proportions in domains: estimate, linearised SE, and 95% intervals as R gives them.

For a row of a table and one group, the domain is the group's respondents with a valid
answer, and the estimate is the ratio ``sum(w * counted) / sum(w * valid)``: R's
``svymean(~counted, subset(design, valid & group == g))``. The intervals are those of
``svyciprop``:

* ``logit`` (its default): ``expit(logit(p) +/- t * se / (p (1 - p)))`` with ``t`` the 97.5%
  point of Student's t on the domain's degrees of freedom (``degf``: respondents minus
  strata in the domain), which is what ``confint(svyglm(y ~ 1, family = quasibinomial),
  ddf = degf)`` reduces to for an intercept-only model;
* ``beta`` (Korn and Graubard 1998): Clopper-Pearson limits at the effective sample size
  ``p (1 - p) / var``, scaled by ``(t_{n-1} / t_{degf})^2``.

Every function takes arrays whose last axis is the strata, so all rows and groups of every
table are computed at once. Where an interval is undefined (p is 0 or 1, no variance, or no
degrees of freedom) it is NaN, and the caller shows none.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special
from scipy import stats as sps

from sharedground.analysis.weights.variance import scale_and_centre

Floats = npt.NDArray[np.float64]

LEVEL = 0.95


@dataclass(frozen=True)
class Proportions:
    """Estimates for many domains at once (arrays of the same shape, proportions 0-1)."""

    estimate: Floats
    se: Floats
    logit_low: Floats
    logit_high: Floats
    beta_low: Floats
    beta_high: Floats
    #: Unweighted respondents in the domain and its degrees of freedom.
    n: Floats
    degf: Floats
    #: Weighted count and weighted denominator.
    weighted_count: Floats
    weighted_total: Floats


def proportions(
    n1: Floats,
    n0: Floats,
    w1: Floats,
    w0: Floats,
    q1: Floats,
    q0: Floats,
    stratum_sizes: Floats,
) -> Proportions:
    """Domain proportions from per-stratum sums (last axis: strata).

    `n1`, `w1`, `q1`: respondents counted, their weights' sum and squared weights' sum;
    `n0`, `w0`, `q0`: the same for valid respondents not counted.
    """
    scale, centre = scale_and_centre(stratum_sizes)
    total_w = w1.sum(axis=-1) + w0.sum(axis=-1)
    count_w = w1.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = count_w / total_w
        pe = p[..., None]
        tot = total_w[..., None]
        sum_z = (w1 - pe * (w1 + w0)) / tot
        sum_z2 = (q1 * (1.0 - pe) ** 2 + q0 * pe**2) / tot**2
        var = (scale * (sum_z2 - centre * sum_z**2)).sum(axis=-1)
        var = np.maximum(var, 0.0)
        se = np.sqrt(var)
        per_stratum = n1 + n0
        n = per_stratum.sum(axis=-1)
        degf = n - (per_stratum > 0).sum(axis=-1)
        inner = (p > 0) & (p < 1) & (var > 0) & (degf > 0)
        safe_df = np.where(degf > 0, degf, 1.0)
        t = sps.t.ppf(1 - (1 - LEVEL) / 2, safe_df)
        centre_logit = special.logit(np.where(inner, p, 0.5))
        half = t * se / np.where(inner, p * (1 - p), 1.0)
        logit_low = np.where(inner, special.expit(centre_logit - half), np.nan)
        logit_high = np.where(inner, special.expit(centre_logit + half), np.nan)
        alpha = 1 - LEVEL
        ratio = sps.t.ppf(alpha / 2, np.where(n > 1, n - 1, 1.0)) / sps.t.ppf(alpha / 2, safe_df)
        n_eff = np.where(inner, p * (1 - p) / np.where(inner, var, 1.0), 1.0) * ratio**2
        pp = np.where(inner, p, 0.5)
        beta_low = np.where(
            inner, sps.beta.ppf(alpha / 2, n_eff * pp, n_eff * (1 - pp) + 1), np.nan
        )
        beta_high = np.where(
            inner, sps.beta.ppf(1 - alpha / 2, n_eff * pp + 1, n_eff * (1 - pp)), np.nan
        )
    return Proportions(
        estimate=np.where(total_w > 0, p, np.nan),
        se=np.where(total_w > 0, se, np.nan),
        logit_low=logit_low,
        logit_high=logit_high,
        beta_low=beta_low,
        beta_high=beta_high,
        n=n.astype(np.float64),
        degf=degf.astype(np.float64),
        weighted_count=count_w,
        weighted_total=total_w,
    )
