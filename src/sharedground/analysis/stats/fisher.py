"""Exact Fisher–Freeman–Halton p-value: R's counting rule and the choice of algorithm.

R's ``fisher.test`` adds up the probabilities of all tables with the observed margins
that are no more probable than the observed table, allowing for rounding:

* for 2 × 2 tables it keeps ``d <= d_obs * (1 + 1e-7)`` (``relErr`` in ``fisher.test``);
* for larger tables FEXACT keeps tables whose log-probability is at most the observed one
  plus ``3.45254e-7`` (its constant ``TOL``), i.e. a relative allowance of
  ``exp(3.45254e-7) - 1``, about 3.45e-7.

Both rules are reproduced exactly here, so tables tied with the observed one (which happen
often: symmetric tables, permuted rows) are counted as R counts them.

The probabilities themselves are computed exactly in the sense of exhaustive, not
sampled: every table with the margins is accounted for, either one by one or in groups
whose total probability is known in closed form.
"""

from __future__ import annotations

import math

from .fisher_many_rows import many_rows_pvalue
from .fisher_network import DEFAULT_MAX_WORK, ExactTestTooLarge, network_pvalue
from .fisher_two_column import two_column_pvalue

#: R's ``relErr`` for 2 × 2 tables: a table counts when ``d <= d_obs * (1 + 1e-7)``.
TWO_BY_TWO_REL_ERR = 1.0 + 1e-7
#: FEXACT's ``TOL`` for larger tables, added to the observed log-probability.
FEXACT_LOG_TOL = 3.45254e-7

__all__ = [
    "DEFAULT_MAX_WORK",
    "FEXACT_LOG_TOL",
    "TWO_BY_TWO_REL_ERR",
    "ExactTestTooLarge",
    "fisher_pvalue",
]


def fisher_pvalue(counts: tuple[tuple[int, ...], ...], max_work: int = DEFAULT_MAX_WORK) -> float:
    """Exact two-sided p-value of a table with no empty row or column, at least 2 × 2.

    Args:
        counts: The table as a tuple of rows.
        max_work: Budget passed to the general network algorithm.

    Returns:
        The p-value as R's ``fisher.test`` defines it.

    Raises:
        ExactTestTooLarge: The table is too large for an exact computation here.
    """
    r, c = len(counts), len(counts[0])
    log_tol = math.log(TWO_BY_TWO_REL_ERR) if (r, c) == (2, 2) else FEXACT_LOG_TOL
    if c == 2 or r == 2:
        # Two answer options (or two groups): a one-parameter family per row.
        if c == 2:
            totals = [a + b for a, b in counts]
            first = [a for a, _ in counts]
        else:
            totals = [sum(col) for col in zip(*counts, strict=True)]
            first = list(counts[0])
        if len(totals) <= 4:
            return two_column_pvalue(totals, first, log_tol)
        return many_rows_pvalue(totals, first, log_tol)
    return network_pvalue(counts, log_tol, max_work)
