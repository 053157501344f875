"""Rao-Scott tests of equal proportions across groups, as R's ``svychisq`` computes them.

The table is groups x answer (counted / not counted) among valid answers; the design is the
stratified one of `variance`. Following ``survey:::svychisq.survey.design`` (survey 4.1):

* Pearson's X^2 of the weighted table scaled to the domain's respondents ``N``;
* the design effect matrix ``Delta = (C' D^-1 C / N)^-1 C' D^-1 V D^-1 C`` with ``C`` the
  interaction contrasts residualised on the main effects, ``D`` the cell proportions and
  ``V`` their linearised covariance;
* ``F`` (second-order, R's default): ``X^2 / tr(Delta)`` on ``d0 = tr(Delta)^2 /
  tr(Delta^2)`` and ``d0 * nu`` degrees of freedom, ``nu`` = respondents - strata;
* ``Chisq`` (first-order): p from ``X^2 / mean(diag(Delta))`` on ``(r-1)(c-1)`` df; R
  reports the uncorrected X^2 as the statistic, kept here as `statistic`, the corrected value
  as `corrected`;
* ``Wald``: the design-based Wald statistic of the residuals ``N_rc - N_r N_c / N``
  divided by ``(r-1)(c-1)``, on F with ``(r-1)(c-1)`` and ``nu`` df.

(Rao and Scott 1981, 1984; Thomas and Rao 1987.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import stats as sps

from sharedground.analysis.weights.variance import (
    StratumSums,
    covariance,
    domain_count,
    scale_and_centre,
)

Floats = npt.NDArray[np.float64]

STATISTICS = ("F", "Chisq", "Wald")


@dataclass(frozen=True)
class RaoScott:
    """One test across groups: R's statistic, its degrees of freedom and p-value."""

    method: str  # "F", "Chisq" or "Wald"
    statistic: float
    ndf: float
    ddf: float | None  # None for Chisq
    p_value: float
    #: Chisq only: X^2 / mean(diag(Delta)), the statistic the p-value refers to.
    corrected: float | None
    groups: int


def rao_scott(
    n: Floats, w: Floats, w2: Floats, stratum_sizes: Floats, method: str = "F"
) -> RaoScott | None:
    """Test equality across groups; arrays are groups x strata x answers.

    Groups and answers nobody in the domain gave are left out (as R's ``unique``); None
    when fewer than two of either remain.
    """
    if method not in STATISTICS:
        raise ValueError(f"unknown Rao-Scott statistic {method!r}; use one of {STATISTICS}")
    rows = n.sum(axis=(1, 2)) > 0
    cols = n.sum(axis=(0, 1)) > 0
    nr, nc = int(rows.sum()), int(cols.sum())
    if nr < 2 or nc < 2:
        return None

    # cells ordered rows fastest (R's interaction(rows, cols)): k = r + nr * c
    def cells(a: Floats) -> Floats:
        kept = a[rows][:, :, cols]  # r x h x c
        return np.transpose(kept, (1, 2, 0)).reshape(a.shape[1], nr * nc)

    sums = StratumSums(cells(n), cells(w), cells(w2), stratum_sizes)
    units, strata = domain_count(sums)
    nu = float(units - strata)
    big_n = float(units)
    totals = sums.w.sum(axis=0)
    grand = totals.sum()
    row_of = np.tile(np.arange(nr), nc)
    col_of = np.repeat(np.arange(nc), nr)
    df = (nr - 1) * (nc - 1)
    table = (totals * big_n / grand).reshape(nc, nr).T
    expected = np.outer(table.sum(axis=1), table.sum(axis=0)) / big_n
    x2 = float(((table - expected) ** 2 / expected).sum())

    if method == "Wald":
        row_t = np.bincount(row_of, weights=totals, minlength=nr)
        col_t = np.bincount(col_of, weights=totals, minlength=nc)
        k = nr * nc
        rr, cc = row_t[row_of], col_t[col_of]
        a = (
            np.eye(k)
            - (row_of[:, None] == row_of[None, :]) * (cc[:, None] / grand)
            - (col_of[:, None] == col_of[None, :]) * (rr[:, None] / grand)
            + (rr * cc / grand**2)[:, None]
        )
        resid = totals - rr * cc / grand
        use = (row_of > 0) & (col_of > 0)
        v = covariance(a[use], sums)
        stat = float(resid[use] @ np.linalg.solve(v, resid[use])) / df
        p = float(sps.f.sf(stat, df, nu)) if nu > 0 else float("nan")
        return RaoScott("Wald", stat, float(df), nu, p, None, nr)

    pi = totals / grand
    if nc == 2:
        trace, trace2 = _traces_two_columns(sums, pi, grand, big_n, nr)
    else:
        trace, trace2 = _traces(sums, pi, grand, big_n, row_of, col_of, nr, nc)
    if method == "F":
        d0 = trace**2 / trace2
        stat = x2 / trace
        p = float(sps.f.sf(stat, d0, d0 * nu)) if nu > 0 else float("nan")
        return RaoScott("F", stat, d0, d0 * nu, p, None, nr)
    corrected = x2 / (trace / df)
    return RaoScott("Chisq", x2, float(df), None, float(sps.chi2.sf(corrected, df)), corrected, nr)


def _traces(
    sums: StratumSums,
    pi: Floats,
    grand: float,
    big_n: float,
    row_of: npt.NDArray[np.int64],
    col_of: npt.NDArray[np.int64],
    nr: int,
    nc: int,
) -> tuple[float, float]:
    """tr(Delta) and tr(Delta^2) as svychisq forms them (any number of columns)."""
    v = covariance((np.eye(nr * nc) - pi[:, None]) / grand, sums)
    contrasts = _contrasts(row_of, col_of, nr, nc)
    inv_d = np.where(pi == 0, 0.0, 1.0 / np.where(pi == 0, 1.0, pi))
    scaled = contrasts * inv_d[:, None]
    denom = contrasts.T @ scaled / big_n
    numr = scaled.T @ v @ scaled
    delta = np.linalg.solve(denom, numr)
    return float(np.trace(delta)), float(np.trace(delta @ delta))


def _traces_two_columns(
    sums: StratumSums, pi: Floats, grand: float, big_n: float, nr: int
) -> tuple[float, float]:
    """tr(Delta) and tr(Delta^2) for groups x 2 tables in O(groups^2), not O(cells^3).

    With two columns the contrasts are the cells (a, -a) with sum(a) = 0, so
    ``Delta ~ (P' D P)^-1 P' M P`` on r - 1 dimensions, where ``D = diag(1/pi_g1 +
    1/pi_g0) / N`` and ``M = S V S'`` with ``S`` taking a group's two cells to
    ``1/pi_g1, -1/pi_g0``; its eigenvalues are those of ``G M`` with ``G = P (P' D P)^-1
    P' = D^-1 - g g' / sum(g)``, ``g = D^-1 1``. ``M`` is diagonal plus a few rank-one
    terms per stratum, built directly from the per-stratum sums (no cells x cells matrix).
    """
    scale, centre = scale_and_centre(sums.stratum_sizes)
    p1, p0 = pi[:nr], pi[nr:]  # cells ordered rows fastest: column 0 first
    i1 = np.where(p1 > 0, 1.0 / np.where(p1 > 0, p1, 1.0), 0.0)
    i0 = np.where(p0 > 0, 1.0 / np.where(p0 > 0, p0, 1.0), 0.0)
    s = (p1 > 0).astype(float) - (p0 > 0).astype(float)
    m = np.zeros((nr, nr))
    diagonal = np.zeros(nr)
    for h in range(sums.w.shape[0]):
        if scale[h] == 0 or not sums.n[h].any():
            continue
        q1, q0 = sums.w2[h, :nr], sums.w2[h, nr:]
        w1, w0 = sums.w[h, :nr], sums.w[h, nr:]
        x = i1 * q1 - i0 * q0
        y = i1 * w1 - i0 * w0 - s * (w1.sum() + w0.sum())
        diagonal += scale[h] * (i1 * i1 * q1 + i0 * i0 * q0)
        m += scale[h] * (
            -np.outer(x, s)
            - np.outer(s, x)
            + (q1.sum() + q0.sum()) * np.outer(s, s)
            - centre[h] * np.outer(y, y)
        )
    m[np.diag_indices(nr)] += diagonal
    m /= grand * grand
    g = big_n / (i1 + i0)
    gm = g[:, None] * m - np.outer(g, g @ m) / g.sum()
    return float(np.trace(gm)), float((gm * gm.T).sum())


def _contrasts(
    row_of: npt.NDArray[np.int64], col_of: npt.NDArray[np.int64], nr: int, nc: int
) -> Floats:
    """Interaction columns of the saturated model, residualised on the main effects (qr.resid)."""
    main = np.column_stack(
        [np.ones(len(row_of))]
        + [(row_of == r).astype(float) for r in range(1, nr)]
        + [(col_of == c).astype(float) for c in range(1, nc)]
    )
    inter = np.column_stack(
        [((row_of == r) & (col_of == c)).astype(float) for c in range(1, nc) for r in range(1, nr)]
    )
    coef, *_ = np.linalg.lstsq(main, inter, rcond=None)
    out: Floats = inter - main @ coef
    return out
