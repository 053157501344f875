"""Cheap bounds on the exact p-value, used where they already give the answer.

Every table that counts towards the p-value is at most ``P_obs * exp(log_tol)`` probable,
and the observed table is one of them, so::

    P_obs  <=  p  <=  P_obs * exp(log_tol) * (number of tables with the margins)

Both sides cost a handful of ``lgamma`` calls whatever the counts. The number of tables is
bounded by filling all rows but the largest freely (a row of total ``r_i`` over ``c``
columns has at most ``C(r_i + c - 1, c - 1)`` fillings, and at most ``min(r_i, c_j) + 1``
per column for two columns), and the same by columns; the smaller bound is kept.

When the upper bound is below :data:`P_FLOOR` the p-value is reported as 0: no computation
could say more than "smaller than any probability worth printing" (the smallest double is
about 5e-324). When both bounds give the same significance stars, the stars are known
without the exact sum; :func:`~.fisher.fisher_test` uses that when the exact sum would
exceed its work budget.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Upper bounds below this are reported as p = 0 ("p < 1e-300").
P_FLOOR = 1e-300
# lgamma of numbers up to 1e6 is exact to ~1e-9 in absolute terms; a margin of 1e-6 in the
# logarithm keeps the bounds rigorous despite that.
_SLACK = 1e-6


@dataclass(frozen=True)
class TailBound:
    """``log_low <= log p <= log_high`` for the exact p-value of one table."""

    log_low: float
    log_high: float
    log_tables: float

    @property
    def low(self) -> float:
        return math.exp(self.log_low)

    @property
    def high(self) -> float:
        return math.exp(min(self.log_high, 0.0))

    @property
    def below_floor(self) -> bool:
        """The p-value is certainly below :data:`P_FLOOR`."""
        return self.log_high < math.log(P_FLOOR)


def _log_binom(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


def log_table_count(rows: list[int], cols: list[int]) -> float:
    """Log of an upper bound on the number of tables with these margins."""

    def by(lines: list[int], other: list[int]) -> float:
        if len(other) == 2:
            sizes = [math.log(min(v, other[0], other[1]) + 1) for v in lines]
        else:
            sizes = [_log_binom(v + len(other) - 1, len(other) - 1) for v in lines]
        # The last line is fixed by the others: leave out the one with most fillings.
        return math.fsum(sizes) - max(sizes)

    return min(by(rows, cols), by(cols, rows))


def tail_bound(counts: tuple[tuple[int, ...], ...], log_tol: float) -> TailBound:
    """Bounds on the exact p-value of a table with no empty row or column."""
    rows = [sum(r) for r in counts]
    cols = [sum(c) for c in zip(*counts, strict=True)]
    n = sum(rows)
    log_obs = (
        math.fsum(math.lgamma(v + 1) for v in rows)
        + math.fsum(math.lgamma(v + 1) for v in cols)
        - math.lgamma(n + 1)
        - math.fsum(math.lgamma(v + 1) for row in counts for v in row)
    )
    log_tables = log_table_count(rows, cols)
    return TailBound(
        log_low=log_obs - _SLACK,
        log_high=log_obs + log_tol + log_tables + _SLACK,
        log_tables=log_tables,
    )
