"""Raking (iterative proportional fitting), post-stratification, trimming, Kish's deff.

Written here rather than taken from a library because the weights must be R's: ``rake()``
of the survey package post-stratifies on each margin in turn, then compares the joint
weighted table of all margin variables with the one before the sweep and stops when no cell
moved by ``epsilon`` or more (``epsilon`` < 1 is a fraction of the total weight); it gives up
after ``maxit`` sweeps. None of the Python raking libraries (weightipy, balance, samplics)
is documented to stop on that rule, so their weights could not be promised to equal R's to
1e-6 (their convergence rules were not tested here); this IPF is checked against rake().
`trim` is ``trimWeights()`` (the excess shared equally among the weights not trimmed,
once, as with ``strict = FALSE``).

A weight that cannot be made stops with a message naming the cell: a population cell with
respondents but a total of zero, a cell with a population but no respondents, raking that
has not converged after ``maxit`` sweeps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


class WeightingError(ValueError):
    """Weights that cannot be computed; the message names the cell."""


@dataclass(frozen=True)
class Margin:
    """One variable to weight to: each respondent's cell (0-based) and the cells' totals."""

    name: str
    codes: Ints
    labels: list[str]
    totals: Floats
    #: What was collapsed to make the cells (said in the methods).
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Raked:
    weights: Floats
    sweeps: int


def post_stratify(weights: Floats, margin: Margin) -> Floats:
    """``postStratify()``: scale the weights in each cell to the cell's population total."""
    cells = len(margin.labels)
    sample = np.bincount(margin.codes, weights=weights, minlength=cells)
    counts = np.bincount(margin.codes, minlength=cells)
    for k in range(cells):
        if counts[k] and margin.totals[k] <= 0:
            raise WeightingError(
                f"{margin.name} {margin.labels[k]!r}: {counts[k]} respondent(s) but a "
                "population total of zero; correct the frame or the targets"
            )
        if margin.totals[k] > 0 and (not counts[k] or sample[k] <= 0):
            raise WeightingError(
                f"{margin.name} {margin.labels[k]!r}: a population of "
                f"{margin.totals[k]:g} but no respondents (weight zero); collapse the cell "
                "with another or leave it out of the targets"
            )
    factor = np.divide(margin.totals, sample, out=np.ones(cells), where=sample > 0)
    out: Floats = weights * factor[margin.codes]
    return out


def rake(
    weights: Floats, margins: Sequence[Margin], *, maxit: int = 50, epsilon: float = 1.0
) -> Raked:
    """``rake(design, margins, control = list(maxit, epsilon))``: IPF to the margins' totals."""
    if not margins:
        return Raked(weights.copy(), 0)
    first = float(margins[0].totals.sum())
    for margin in margins[1:]:
        total = float(margin.totals.sum())
        if not np.isclose(total, first, rtol=1e-9):
            raise WeightingError(
                f"the margins disagree: {margins[0].name} adds up to {first:g} people but "
                f"{margin.name} to {total:g}; give totals of the same population"
            )
    tolerance = epsilon * float(weights.sum()) if epsilon < 1 else epsilon
    joint, size = _joint(margins)
    old = np.bincount(joint, weights=weights, minlength=size)
    current = weights.copy()
    for sweep in range(maxit):
        for margin in margins:
            current = post_stratify(current, margin)
        new = np.bincount(joint, weights=current, minlength=size)
        if np.max(np.abs(old - new)) < tolerance:
            return Raked(current, sweep + 1)
        old = new
    worst, where = _worst_cell(current, margins)
    raise WeightingError(
        f"raking did not converge in {maxit} sweeps: {where} is still {worst:g} off its "
        "total; collapse thin cells (a larger --min-cell) or rake on fewer margins"
    )


def _joint(margins: Sequence[Margin]) -> tuple[Ints, int]:
    joint = np.zeros(len(margins[0].codes), dtype=np.int64)
    size = 1
    for margin in margins:
        joint = joint * len(margin.labels) + margin.codes
        size *= len(margin.labels)
    return joint, size


def _worst_cell(weights: Floats, margins: Sequence[Margin]) -> tuple[float, str]:
    worst, where = -1.0, ""
    for margin in margins:
        got = np.bincount(margin.codes, weights=weights, minlength=len(margin.labels))
        off = np.abs(got - margin.totals)
        k = int(np.argmax(off))
        if off[k] > worst:
            worst, where = float(off[k]), f"{margin.name} {margin.labels[k]!r}"
    return worst, where


def trim(weights: Floats, upper: float, lower: float = -np.inf) -> Floats:
    """``trimWeights(design, upper, lower)``: cap, and share what was cut among the rest."""
    outside = (weights < lower) | (weights > upper)
    if not outside.any():
        return weights.copy()
    if outside.all():
        raise WeightingError(f"every weight is above the cap {upper:g}; raise the cap")
    new = np.clip(weights, lower, upper)
    trimmings = float((weights - new).sum())
    new[~outside] += trimmings / int((~outside).sum())
    return new


@dataclass(frozen=True)
class Kish:
    """Kish's design effect due to weighting and the effective sample size."""

    n: int
    deff: float
    effective_n: float


def kish(weights: Floats) -> Kish:
    """``n * sum(w^2) / sum(w)^2`` and ``sum(w)^2 / sum(w^2)``."""
    total, squares = float(weights.sum()), float((weights * weights).sum())
    n = len(weights)
    if n == 0 or squares == 0:
        return Kish(n, float("nan"), 0.0)
    return Kish(n, n * squares / total**2, total**2 / squares)
