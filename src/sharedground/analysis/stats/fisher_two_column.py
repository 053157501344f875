"""Exact Fisher–Freeman–Halton p-value for tables with two columns and two to four rows.

This is the fast path for yes/no survey items compared across up to four groups, where
the counts may run into the hundreds of thousands.

Tables with fixed margins are the vectors ``a`` of first-column counts with ``sum(a) = m``
and ``0 <= a_i <= n_i``. With ``pi = m / N``::

    P(a) = prod_i C(n_i, a_i) / C(N, m) = prod_i dbinom(a_i; n_i, pi) / dbinom(m; N, pi)

(the powers of ``pi`` cancel because ``sum(a) = m``). Each factor is computed in log space
with Loader's method (:mod:`.logprob`), so the log-probability of every table is accurate
to about 1e-15 even for N = 1e6. A table *counts* towards the p-value when its
log-probability is at most the observed one plus ``log_tol``.

The last two rows form the "inner" pair and the others (one or two rows) the "outer" group.
Tables are sliced by the inner pair's total ``t``. Within a slice, a two-row group's
log-probability as a function of its first count is concave (a hypergeometric shape), so
it rises to a mode and falls after it. Hence:

* a slice whose most probable table already counts counts entirely, and its mass is known
  in closed form (Vandermonde: ``sum_b C(n_i, b) C(n_j, t - b) = C(n_i + n_j, t)``);
* in the other slices, for each outer value the inner tables that do not count form one
  interval around the inner mode, found by binary search on the two monotone sides, and
  masses over intervals come from cumulative sums.

Two ways of adding up are used. When the p-value is not small, the tables that do *not*
count (one compact region around the most probable table) are summed and the p-value is
one minus that; this touches few tables, and the subtraction costs at most ~1e-14 in
absolute terms, so it is only trusted for p >= 1e-5. Otherwise the counting tables are
summed directly. There, tables less probable than ``P(observed) * exp(-40)`` in a
row's marginal distribution are left out: they cannot move the p-value beyond its 17th
significant digit (the bound is spelt out in :meth:`_TwoColumnTables._row`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .chi2 import chi2_pvalue
from .fisher_budget import DEFAULT_MAX_WORK, Budget
from .logprob import FloatArray, log_dbinom, log_dbinom_scalar

IntArray = npt.NDArray[np.int64]

# A row value whose marginal probability is below P(observed) * exp(-_NEGLIGIBLE) / (n + 1)
# is left out of the direct sum; together they weigh less than r * exp(-40) * P(observed).
_NEGLIGIBLE = 40.0
# The complement sum is used when the chi-squared approximation suggests p above this
# value, and its result is trusted only above _COMPLEMENT_FLOOR (see the module docstring).
_COMPLEMENT_HINT = 1e-3
_COMPLEMENT_FLOOR = 1e-5
# Work charged (see .fisher_budget): per slice visited in a Python loop, per array element
# handled there, and per row value computed. Calibrated on 3 x 2 and 4 x 2 tables of up to
# a million answers (bench/bench_stats.py).
_SLICE_UNITS = 600
_ELEMENT_UNITS = 0.2
_ROW_VALUE_UNITS = 3


class _Row:
    """One row: ``log dbinom(a; n, pi)`` for ``a`` in ``lo..hi``, and scaled weights."""

    __slots__ = ("hi", "lo", "n", "peak", "values", "weights")

    def __init__(self, n: int, lo: int, hi: int, values: FloatArray) -> None:
        self.n = n
        self.lo = lo
        self.hi = hi
        self.values = values
        self.peak = float(values.max())
        # Weights relative to the row's own maximum: never overflow, and they only
        # underflow for tables below 1e-320 or so, far beneath anything that matters.
        self.weights = np.exp(values - self.peak)


class _Pair:
    """Two rows whose counts add up to a given total ``t`` (a slice of the tables)."""

    def __init__(self, first: _Row, second: _Row) -> None:
        self.first = first
        self.second = second
        self.n = first.n + second.n
        self.peak = first.peak + second.peak

    def bounds(self, t: IntArray) -> tuple[IntArray, IntArray]:
        """Range of the first row's count for each total (empty where lo > hi)."""
        lo = np.maximum(self.first.lo, t - self.second.hi)
        hi = np.minimum(self.first.hi, t - self.second.lo)
        return lo, hi

    def mode(self, t: IntArray) -> IntArray:
        """Most probable first-row count for each total, clipped to the range.

        ``C(n1, b) C(n2, t - b)`` peaks at the hypergeometric mode; the values are concave
        in ``b``, so clipping gives the constrained maximum.
        """
        n1, n2 = self.first.n, self.second.n
        lo, hi = self.bounds(t)
        mode = (t + 1) * (n1 + 1) // (n1 + n2 + 2)
        return np.clip(mode, lo, np.maximum(lo, hi))

    def value(self, t: IntArray, b: IntArray) -> FloatArray:
        """Log-probability of the pair at first-row count ``b`` and total ``t``."""
        out: FloatArray = (
            self.first.values[b - self.first.lo] + self.second.values[t - b - self.second.lo]
        )
        return out

    def window(self, t: int, b_lo: int, b_hi: int) -> tuple[FloatArray, FloatArray]:
        """Values and scaled weights for first-row counts ``b_lo..b_hi`` at total ``t``."""
        f, s = self.first, self.second
        head = slice(b_lo - f.lo, b_hi - f.lo + 1)
        # The second row's count t - b falls as b rises: walk its arrays backwards.
        start, stop = t - b_lo - s.lo, t - b_hi - s.lo
        tail = slice(start, stop - 1 if stop > 0 else None, -1)
        return f.values[head] + s.values[tail], f.weights[head] * s.weights[tail]

    def weight_sum(self, t: int, b_lo: int, b_hi: int) -> float:
        """Sum of the scaled weights for first-row counts ``b_lo..b_hi`` at total ``t``."""
        if b_lo > b_hi:
            return 0.0
        f, s = self.first, self.second
        head = slice(b_lo - f.lo, b_hi - f.lo + 1)
        start, stop = t - b_lo - s.lo, t - b_hi - s.lo
        tail = slice(start, stop - 1 if stop > 0 else None, -1)
        return float(np.dot(f.weights[head], s.weights[tail]))


def _crossing(
    pair: _Pair, t: IntArray, limit: FloatArray, inside: IntArray, outside: IntArray
) -> IntArray:
    """Vectorised binary search for the last count on the ``inside`` side above ``limit``.

    For each total, ``pair.value(t, inside) > limit`` holds and the values fall
    monotonically from ``inside`` towards ``outside`` (which lies one step past the range
    and is never evaluated). Returns the count nearest ``outside`` still above the limit.
    """
    inside = inside.copy()
    outside = outside.copy()
    while True:
        gap = np.abs(outside - inside) > 1
        if not np.any(gap):
            return inside
        mid = (inside + outside) // 2
        # Only evaluate where the search is still open; elsewhere mid is a safe index.
        mid = np.where(gap, mid, inside)
        above = pair.value(t, mid) > limit
        inside = np.where(gap & above, mid, inside)
        outside = np.where(gap & ~above, mid, outside)


class _TwoColumnTables:
    """All tables with the margins of one observed r × 2 table (2 <= r <= 4)."""

    def __init__(
        self,
        row_totals: Sequence[int],
        first_column: Sequence[int],
        log_tol: float,
        budget: Budget | None = None,
    ) -> None:
        self.budget = budget or Budget(DEFAULT_MAX_WORK)
        # The p-value does not depend on the order of the rows. Smallest rows first: they
        # form the outer group, whose spread sets how many slices are visited, while the
        # largest rows, inside each slice, are handled as whole arrays. A small group
        # beside two large ones then costs a few slices, not thousands.
        order = sorted(range(len(row_totals)), key=lambda i: int(row_totals[i]))
        self.n = [int(row_totals[i]) for i in order]
        self.obs = [int(first_column[i]) for i in order]
        self.big_n = sum(self.n)
        self.m = sum(self.obs)
        self.pi = self.m / self.big_n
        self.log_norm = log_dbinom_scalar(self.m, self.big_n, self.pi)
        self.obs_value = math.fsum(
            log_dbinom_scalar(a, ni, self.pi) for a, ni in zip(self.obs, self.n, strict=True)
        )
        self.threshold = self.obs_value + log_tol
        self.rows = [self._row(ni) for ni in self.n]

    def _row(self, n_i: int) -> _Row:
        """Row values over the counts that can matter.

        The count ``a`` of a row with ``n_i`` people has, under the null hypothesis, the
        hypergeometric marginal ``P(a) = dbinom(a; n_i, pi) dbinom(m - a; N - n_i, pi) /
        dbinom(m; N, pi)``. Counts with ``P(a) < P(observed table) * exp(-40) / (n_i + 1)``
        are dropped: all the tables using any of them weigh less than ``exp(-40)`` times
        the observed table, itself part of the p-value. Tables that do *not* count are
        never dropped, since each is more probable than the observed table, hence than
        any dropped marginal value.
        """
        pi, m, rest = self.pi, self.m, self.big_n - n_i
        cut = self.obs_value - _NEGLIGIBLE - math.log(n_i + 1)

        def keep(a: int) -> bool:
            if m - a < 0 or m - a > rest:
                return False
            return log_dbinom_scalar(a, n_i, pi) + log_dbinom_scalar(m - a, rest, pi) >= cut

        # The marginal is log-concave with its mode at the hypergeometric mode, which is
        # always kept (it is at least as probable as the observed row count).
        mode = (m + 1) * (n_i + 1) // (self.big_n + 2)
        mode = min(max(mode, m - rest, 0), n_i, m)
        bad, good = -1, mode
        while good - bad > 1:
            mid = (bad + good) // 2
            bad, good = (bad, mid) if keep(mid) else (mid, good)
        lo = good
        good, bad = mode, n_i + 1
        while bad - good > 1:
            mid = (good + bad) // 2
            good, bad = (mid, bad) if keep(mid) else (good, mid)
        hi = good
        self.budget.charge(_ROW_VALUE_UNITS * (hi - lo + 1))
        values = log_dbinom(np.arange(lo, hi + 1, dtype=np.float64), float(n_i), pi)
        return _Row(n_i, lo, hi, values)

    def pvalue(self) -> float:
        r = len(self.n)
        if r == 2:
            return self._two_rows()
        if self._chi2_hint() >= _COMPLEMENT_HINT:
            p = self._by_complement()
            if p >= _COMPLEMENT_FLOOR:
                return p
        return self._by_tails()

    def _chi2_hint(self) -> float:
        """Pearson chi-squared p-value, only used to pick the cheaper way of adding up."""
        stat = 0.0
        for a, ni in zip(self.obs, self.n, strict=True):
            e1 = ni * self.pi
            e2 = ni - e1
            stat += (a - e1) ** 2 / e1 + (ni - a - e2) ** 2 / e2
        return chi2_pvalue(stat, len(self.n) - 1)

    def _two_rows(self) -> float:
        pair = _Pair(self.rows[0], self.rows[1])
        t = np.array([self.m], dtype=np.int64)
        lo, hi = pair.bounds(t)
        self.budget.charge(_SLICE_UNITS + _ELEMENT_UNITS * max(0, int(hi[0] - lo[0]) + 1))
        values, _ = pair.window(self.m, int(lo[0]), int(hi[0]))
        counted = values[values <= self.threshold]
        top = float(counted.max())
        log_p = top + math.log(float(np.exp(counted - top).sum())) - self.log_norm
        return min(1.0, math.exp(log_p))

    # -- slicing -------------------------------------------------------------------------

    def _slices(self) -> tuple[_Pair, _Pair | _Row, IntArray, FloatArray, FloatArray]:
        """Inner pair, outer group, slice totals and each slice's best inner/outer values."""
        inner = _Pair(self.rows[-2], self.rows[-1])
        outer_rows = self.rows[:-2]
        outer: _Pair | _Row = outer_rows[0] if len(outer_rows) == 1 else _Pair(*outer_rows)
        t_lo = max(inner.first.lo + inner.second.lo, self.m - sum(r.hi for r in outer_rows))
        t_hi = min(inner.first.hi + inner.second.hi, self.m - sum(r.lo for r in outer_rows))
        t = np.arange(t_lo, t_hi + 1, dtype=np.int64)
        b_lo, b_hi = inner.bounds(t)
        u = self.m - t
        if isinstance(outer, _Pair):
            a_lo, a_hi = outer.bounds(u)
            ok = (b_lo <= b_hi) & (a_lo <= a_hi)
            t, u = t[ok], u[ok]
            outer_best = outer.value(u, outer.mode(u))
        else:
            ok = (b_lo <= b_hi) & (u >= outer.lo) & (u <= outer.hi)
            t, u = t[ok], u[ok]
            outer_best = outer.values[u - outer.lo]
        inner_best = inner.value(t, inner.mode(t))
        return inner, outer, t, inner_best, outer_best

    def _by_complement(self) -> float:
        """One minus the probability of the tables more probable than the threshold."""
        inner, outer, t, inner_best, outer_best = self._slices()
        thr = self.threshold
        part = inner_best + outer_best > thr
        t, inner_best, outer_best = t[part], inner_best[part], outer_best[part]
        if t.size == 0:
            return 1.0
        u = self.m - t
        # Widest inner interval above the threshold in each slice (for the best outer value).
        b_mode = inner.mode(t)
        b_lo, b_hi = inner.bounds(t)
        limit = thr - outer_best
        b_first = _crossing(inner, t, limit, b_mode, b_lo - 1)
        b_last = _crossing(inner, t, limit, b_mode, b_hi + 1)
        if isinstance(outer, _Pair):
            a_mode = outer.mode(u)
            a_lo, a_hi = outer.bounds(u)
            a_limit = thr - inner_best
            a_first = _crossing(outer, u, a_limit, a_mode, a_lo - 1)
            a_last = _crossing(outer, u, a_limit, a_mode, a_hi + 1)
            outer_sizes = a_last - a_first + 1
        else:
            outer_sizes = np.ones_like(t)
        # Everything the loop below will touch is known now: charge it before starting.
        self.budget.charge(
            _SLICE_UNITS * t.size
            + _ELEMENT_UNITS * float(np.sum(b_last - b_first + 1) + 3 * np.sum(outer_sizes))
        )

        total = 0.0
        for k in range(t.size):
            tk = int(t[k])
            values, weights = inner.window(tk, int(b_first[k]), int(b_last[k]))
            cum = np.concatenate(([0.0], np.cumsum(weights)))
            mode_at = int(b_mode[k] - b_first[k])
            left = values[:mode_at]
            right = values[mode_at + 1 :][::-1]
            if isinstance(outer, _Pair):
                o_values, o_weights = outer.window(int(u[k]), int(a_first[k]), int(a_last[k]))
            else:
                at = int(u[k]) - outer.lo
                o_values, o_weights = outer.values[at : at + 1], outer.weights[at : at + 1]
            limits = thr - o_values
            # Inner tables above the limit: from the first left value above it to the
            # last right value above it.
            start = np.searchsorted(left, limits, side="right")
            stop = values.size - np.searchsorted(right, limits, side="right")
            total += float(np.dot(o_weights, cum[stop] - cum[start]))
        peak = inner.peak + outer.peak
        above = total * math.exp(peak - self.log_norm)
        return min(1.0, max(0.0, 1.0 - above))

    def _by_tails(self) -> float:
        """Direct sum of the probabilities of the tables that count."""
        inner, outer, t, inner_best, outer_best = self._slices()
        thr = self.threshold
        outer_n = self.big_n - inner.n
        whole = inner_best + outer_best <= thr
        logs: list[float] = []
        if np.any(whole):
            tw = t[whole].astype(np.float64)
            mass = log_dbinom(tw, float(inner.n), self.pi) + log_dbinom(
                self.m - tw, float(outer_n), self.pi
            )
            top = float(mass.max())
            logs.append(top + math.log(float(np.exp(mass - top).sum())))

        part = ~whole
        t, inner_best = t[part], inner_best[part]
        u = self.m - t
        # Closed-form inner mass of each slice, on the scale of the inner weights.
        inner_total = np.exp(log_dbinom(t.astype(np.float64), float(inner.n), self.pi) - inner.peak)
        b_mode = inner.mode(t)
        b_lo, b_hi = inner.bounds(t)
        if isinstance(outer, _Pair):
            # Outer values for which some inner tables do not count: an interval around
            # the outer mode. Outside it every inner table counts.
            a_mode = outer.mode(u)
            a_lo, a_hi = outer.bounds(u)
            a_first = _crossing(outer, u, thr - inner_best, a_mode, a_lo - 1)
            a_last = _crossing(outer, u, thr - inner_best, a_mode, a_hi + 1)
            outer_sizes = 3 * (a_last - a_first + 1) + (a_hi - a_lo + 1)
        else:
            outer_sizes = np.ones_like(t)
        self.budget.charge(
            _SLICE_UNITS * t.size
            + _ELEMENT_UNITS * float(4 * np.sum(b_hi - b_lo + 1) + np.sum(outer_sizes))
        )

        total = 0.0
        for k in range(t.size):
            tk, uk = int(t[k]), int(u[k])
            values, weights = inner.window(tk, int(b_lo[k]), int(b_hi[k]))
            mode_at = int(b_mode[k] - b_lo[k])
            # Both sides read from the far end towards the mode ascend in value, so the
            # tables that count on each side are a prefix, and prefix sums give their mass.
            left = values[:mode_at]
            right = values[mode_at + 1 :][::-1]
            left_mass = np.zeros(left.size + 1)
            np.cumsum(weights[:mode_at], out=left_mass[1:])
            right_mass = np.zeros(right.size + 1)
            np.cumsum(weights[mode_at + 1 :][::-1], out=right_mass[1:])
            if isinstance(outer, _Pair):
                first, last = int(a_first[k]), int(a_last[k])
                o_values, o_weights = outer.window(uk, first, last)
                # Outer values where every inner table counts, weighted in one pass each.
                rest = outer.weight_sum(uk, int(a_lo[k]), first - 1) + outer.weight_sum(
                    uk, last + 1, int(a_hi[k])
                )
                total += rest * float(inner_total[k])
            else:
                at = uk - outer.lo
                o_values, o_weights = outer.values[at : at + 1], outer.weights[at : at + 1]
            limits = thr - o_values
            mass = (
                left_mass[np.searchsorted(left, limits, side="right")]
                + right_mass[np.searchsorted(right, limits, side="right")]
            )
            total += float(np.dot(o_weights, mass))
        if total > 0.0:
            logs.append(math.log(total) + inner.peak + outer.peak)
        if not logs:  # pragma: no cover - the observed table itself always counts
            return 0.0
        top = max(logs)
        log_p = top + math.log(math.fsum(math.exp(v - top) for v in logs)) - self.log_norm
        return min(1.0, math.exp(log_p))


def two_column_pvalue(
    row_totals: Sequence[int],
    first_column: Sequence[int],
    log_tol: float,
    budget: Budget | None = None,
) -> float:
    """Exact p-value for an r × 2 table with 2 <= r <= 4.

    Args:
        row_totals: Row totals ``n_i``, all positive.
        first_column: Observed first-column counts ``a_i``; their sum must lie strictly
            between 0 and ``sum(n_i)``.
        log_tol: A table counts when ``log P(table) <= log P(observed) + log_tol``.
        budget: Work allowed (by default :data:`.fisher_budget.DEFAULT_MAX_WORK`).

    Returns:
        The total probability of the tables that count.

    Raises:
        ExactTestTooLarge: The budget would be exceeded.
    """
    if not 2 <= len(row_totals) <= 4:
        raise ValueError("two_column_pvalue handles 2 to 4 rows")
    return _TwoColumnTables(row_totals, first_column, log_tol, budget).pvalue()
