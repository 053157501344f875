"""Exact Fisher–Freeman–Halton p-value for r × 2 tables with many rows (meet in the middle).

Used for two-column tables with five or more rows (or two-row tables with five or more
columns, transposed), where the network algorithm would follow too many paths.

As in :mod:`.fisher_two_column`, a table is the vector ``a`` of first-column counts and
``log P(a) = sum_i log dbinom(a_i; n_i, pi) - log dbinom(m; N, pi)``. The rows are split
into two halves. For each half, every combination of its rows' counts is listed with its
total and its log-probability part (identical pairs merged). A table is one combination
of each half whose totals add up to ``m``, so for each total ``t`` of the second half the
counting tables are the pairs with ``x + y <= threshold``; after sorting the second half's
values for that total, the mass of the ``y`` that qualify for a given ``x`` is a prefix
sum found by binary search.

Combinations less probable than ``P(observed) * exp(-40)`` divided by the number of tables
are dropped as they are listed: since every row's log-probability part is at most 0, such
a combination can only belong to tables of that size or less, which together cannot move
the p-value in its 17th digit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .fisher_budget import DEFAULT_MAX_WORK, Budget, ExactTestTooLarge
from .logprob import FloatArray, log_dbinom, log_dbinom_scalar

IntArray = npt.NDArray[np.int64]

_NEGLIGIBLE = 40.0
# Most combinations a half may list before the test is declared too large.
_MAX_LISTED = 6_000_000
# Work charged per combination listed (sorted with lexsort, the bulk of the time), per row
# value computed and per group of equal totals visited (see .fisher_budget).
_LISTED_UNITS = 12
_ROW_VALUE_UNITS = 3
_GROUP_UNITS = 300


def _half(
    rows: Sequence[tuple[int, FloatArray]], cut: float, budget: Budget
) -> tuple[IntArray, FloatArray, FloatArray]:
    """All combinations of the rows' counts: (total, log-probability part, multiplicity).

    ``rows`` holds each row's lowest count and its log-probabilities from there on.
    Combinations below ``cut`` are dropped; identical (total, value) pairs are merged.
    """
    totals = np.zeros(1, dtype=np.int64)
    values = np.zeros(1)
    mult = np.ones(1)
    for lo, row_values in rows:
        keep = row_values >= cut
        counts = np.arange(lo, lo + row_values.size, dtype=np.int64)[keep]
        row_kept = row_values[keep]
        size = totals.size * counts.size
        if size > _MAX_LISTED:
            raise ExactTestTooLarge("the exact test needs more memory than allowed for this table")
        budget.charge(_LISTED_UNITS * size)
        t = (totals[:, None] + counts[None, :]).ravel()
        v = (values[:, None] + row_kept[None, :]).ravel()
        w = np.repeat(mult, counts.size)
        alive = v >= cut
        t, v, w = t[alive], v[alive], w[alive]
        order = np.lexsort((v, t))
        t, v, w = t[order], v[order], w[order]
        start = np.ones(t.size, dtype=bool)
        start[1:] = (t[1:] != t[:-1]) | (v[1:] != v[:-1])
        at = np.flatnonzero(start)
        totals, values, mult = t[at], v[at], np.add.reduceat(w, at)
    return totals, values, mult


def many_rows_pvalue(
    row_totals: Sequence[int],
    first_column: Sequence[int],
    log_tol: float,
    budget: Budget | None = None,
) -> float:
    """Exact p-value for an r × 2 table (any r >= 2) by meeting in the middle.

    Args:
        row_totals: Row totals ``n_i``, all positive.
        first_column: Observed first-column counts; their sum lies strictly between 0 and N.
        log_tol: A table counts when ``log P(table) <= log P(observed) + log_tol``.
        budget: Work allowed (by default :data:`.fisher_budget.DEFAULT_MAX_WORK`).

    Returns:
        The total probability of the tables that count.

    Raises:
        ExactTestTooLarge: Listing the combinations would take too much memory, or the
            budget would be exceeded.
    """
    budget = budget or Budget(DEFAULT_MAX_WORK)
    n = [int(v) for v in row_totals]
    obs = [int(v) for v in first_column]
    big_n, m = sum(n), sum(obs)
    pi = m / big_n
    log_norm = log_dbinom_scalar(m, big_n, pi)
    obs_value = math.fsum(log_dbinom_scalar(a, ni, pi) for a, ni in zip(obs, n, strict=True))
    threshold = obs_value + log_tol
    cut = obs_value - _NEGLIGIBLE - math.fsum(math.log(ni + 1) for ni in n)
    rows = []
    for ni in n:
        lo, hi = max(0, m - (big_n - ni)), min(ni, m)
        budget.charge(_ROW_VALUE_UNITS * (hi - lo + 1))
        rows.append((lo, log_dbinom(np.arange(lo, hi + 1, dtype=np.float64), float(ni), pi)))
    h = len(rows) // 2
    a_tot, a_val, a_mult = _half(rows[:h], cut, budget)
    b_tot, b_val, b_mult = _half(rows[h:], cut, budget)

    # Second half, grouped by total (already sorted by total, then value).
    b_top = float(b_val.max())
    b_weight = b_mult * np.exp(b_val - b_top)
    seg_start = np.flatnonzero(np.r_[True, b_tot[1:] != b_tot[:-1]])
    seg_end = np.r_[seg_start[1:], b_tot.size]
    seg_of_total = {
        int(b_tot[s]): (int(s), int(e)) for s, e in zip(seg_start, seg_end, strict=True)
    }
    # Prefix sums within each total, each starting from zero so small totals keep precision.
    prefix = np.zeros(b_tot.size + len(seg_start))
    for k, (s, e) in enumerate(zip(seg_start.tolist(), seg_end.tolist(), strict=True)):
        np.cumsum(b_weight[s:e], out=prefix[s + k + 1 : e + k + 1])

    a_top = float(a_val.max())
    a_weight = a_mult * np.exp(a_val - a_top)
    total = 0.0
    a_start = np.flatnonzero(np.r_[True, a_tot[1:] != a_tot[:-1]])
    a_end = np.r_[a_start[1:], a_tot.size]
    budget.charge(_GROUP_UNITS * (a_start.size + seg_start.size) + 2 * (a_tot.size + b_tot.size))
    seg_index = {int(b_tot[s]): k for k, s in enumerate(seg_start.tolist())}
    for s, e in zip(a_start.tolist(), a_end.tolist(), strict=True):
        need = m - int(a_tot[s])
        if need not in seg_of_total:
            continue
        bs, be = seg_of_total[need]
        k = seg_index[need]
        limits = threshold - a_val[s:e]
        # a_val ascends within the segment, so the limits descend; search them reversed.
        found = np.searchsorted(b_val[bs:be], limits[::-1], side="right")[::-1]
        total += float(np.dot(a_weight[s:e], prefix[bs + k + found]))
    if total <= 0.0:  # pragma: no cover - the observed table itself always counts
        return 0.0
    log_p = math.log(total) + a_top + b_top - log_norm
    return min(1.0, math.exp(log_p))
