"""The stage-at-a-time walk of :mod:`.fisher_stagewise`, compiled: r × c tables as fast as R.

Issue #15 asks for r × c tables of up to 6 × 4 and 100 answers at least as fast as R's
``fisher.test``. The walk in Python (plain or with NumPy arrays) is within a factor of two of
R on the tables that take R a tenth of a second or more, but on small tables the cost per
step (a microsecond, against R's compiled FEXACT) left it 4-11 times slower (3 × 3 of 20
answers: 0.55 ms against 0.09 ms). ``_fisher_walk.c`` is the plain walk
(``_PyStagewise.pvalue``) line for line in C; this module prepares the same fixed-point
inputs, so that both forms compare exactly the same integers and count the same tables.

The extension is built when the package is installed (``hatch_build.py``, with the C
compiler Python was built with). Where it could not be built the NumPy and plain-Python
forms answer as before (:data:`AVAILABLE` is false); the tests require it, so a machine
that installs without a compiler finds out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from types import ModuleType

import numpy as np

from .fisher_budget import Budget, ExactTestTooLarge
from .fisher_stagewise import FRACTION_BITS, fits
from .logprob import log_factorials

_walk: ModuleType | None
try:
    from . import _fisher_walk as _walk
except ImportError:  # pragma: no cover - built by hatch_build.py on install
    _walk = None

#: Whether the compiled walk is installed.
AVAILABLE = _walk is not None
#: Most rows (the shorter side) the compiled walk takes; its nodes are arrays of this size.
MAX_SHORT_SIDE = 16
#: Most stages (the longer side).
MAX_LONG_SIDE = 64

_SCALE = float(2**FRACTION_BITS)


@lru_cache(maxsize=256)
def _log_factorials(total: int) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """``log k!`` for k = 0..total, and the same in the walk's fixed point.

    Remembered: on a small table building them is half the time of the whole test
    (25 of 55 microseconds for a 3 x 3 table of 20 answers), and an analysis asks for the
    same few totals over and over.
    """
    exact = log_factorials(total)
    return tuple(exact.tolist()), tuple(int(v) for v in np.rint(exact * _SCALE).tolist())


def suits(table: Sequence[Sequence[int]]) -> bool:
    """Whether the compiled walk is installed and takes this table."""
    r, c = len(table), len(table[0])
    return AVAILABLE and min(r, c) <= MAX_SHORT_SIDE and max(r, c) <= MAX_LONG_SIDE and fits(table)


def compiled_pvalue(table: Sequence[Sequence[int]], log_tol: float, budget: Budget) -> float:
    """Exact Fisher–Freeman–Halton p-value by the compiled walk (see :func:`suits`).

    Args:
        table: The observed counts, at least 2 × 2, no empty row or column.
        log_tol: A table counts when ``log P(table) <= log P(observed) + log_tol``.
        budget: Work allowed; the walk stops as soon as it would be passed.

    Returns:
        The total probability of the tables that count.

    Raises:
        ExactTestTooLarge: The budget would be exceeded.
    """
    if _walk is None:  # pragma: no cover - callers check suits()
        raise RuntimeError("the compiled exact test is not installed")
    rows = [list(r) for r in table]
    if len(rows) > len(rows[0]):
        rows = [list(col) for col in zip(*rows, strict=True)]
    col_totals = [sum(col) for col in zip(*rows, strict=True)]
    # Small stages first, as FEXACT does, except with three stages: there the largest first
    # lets the bounds settle more of its many children before the last free stage is
    # listed (as the array form does; 3 x 3 of 100 answers: 0.44 ms against 0.51 ms).
    order = sorted(range(len(col_totals)), key=lambda j: col_totals[j])
    if len(order) == 3:
        order = order[::-1]
    stages = [col_totals[j] for j in order]
    row_totals = sorted(sum(r) for r in rows)
    total = sum(row_totals)
    lf, fixed = _log_factorials(total)
    observed = sum(
        fixed[stages[j]] - sum(fixed[r[order[j]]] for r in rows) for j in range(len(order))
    )
    threshold = observed + round(log_tol * _SCALE)
    constant = math.fsum(lf[r] for r in row_totals) - lf[total]
    p, used, done = _walk.walk(
        row_totals, stages, fixed, lf, threshold, constant, budget.limit - budget.used
    )
    if not done:
        budget.used = budget.limit
        raise ExactTestTooLarge(
            f"the exact test needs more than {budget.limit:,} units of work for this table"
        )
    budget.charge(used)
    return float(p)
