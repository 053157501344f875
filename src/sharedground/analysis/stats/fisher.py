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

Tables of up to a few hundred answers are walked by compiled code
(:mod:`.fisher_compiled`) where it is installed; the Python forms remain for larger tables
and as the fallback.

Before any enumeration, :func:`.fisher_bounds.tail_bound` brackets the p-value between the
observed table's probability and that times the number of tables. A p-value that is
certainly below 1e-300 is reported as 0 without enumerating anything (the 4 x 2 table of
344,000 answers with a strong effect that used to take minutes). Every algorithm works
within a budget (:mod:`.fisher_budget`); when it would run out, the bracket is reported
instead if it already settles the significance stars, and the test is refused otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from .fisher_bounds import P_FLOOR, tail_bound
from .fisher_budget import DEFAULT_MAX_WORK, Budget, ExactTestTooLarge
from .fisher_compiled import compiled_pvalue
from .fisher_compiled import suits as compiled_suits
from .fisher_many_rows import many_rows_pvalue
from .fisher_network import network_pvalue
from .fisher_stagewise import fits as stagewise_fits
from .fisher_stagewise import plain_suits, stagewise_pvalue
from .fisher_two_column import two_column_pvalue
from .result import stars

#: R's ``relErr`` for 2 × 2 tables: a table counts when ``d <= d_obs * (1 + 1e-7)``.
TWO_BY_TWO_REL_ERR = 1.0 + 1e-7
#: FEXACT's ``TOL`` for larger tables, added to the observed log-probability.
FEXACT_LOG_TOL = 3.45254e-7

__all__ = [
    "DEFAULT_MAX_WORK",
    "FEXACT_LOG_TOL",
    "TWO_BY_TWO_REL_ERR",
    "ExactOutcome",
    "ExactTestTooLarge",
    "fisher_pvalue",
    "fisher_test",
]

Kind = Literal["exact", "below_floor", "bound"]

# Share of the budget (1 / this) the network gets when the bounds settle the stars.
_SETTLED_SHARE = 10


@dataclass(frozen=True)
class ExactOutcome:
    """What the exact test found for one table.

    Attributes:
        p_value: The exact p-value (``kind == "exact"``); 0.0 when it is certainly below
            :data:`~.fisher_bounds.P_FLOOR` (``"below_floor"``); or an upper bound on it
            (``"bound"``) when the exact sum would have exceeded the budget but the bound
            already settles the significance stars.
        kind: Which of the three.
        p_low: A lower bound on the p-value (the observed table's probability); equal to
            ``p_value`` for an exact result.
        log_low: Its natural logarithm (``p_low`` underflows to 0 below about 1e-308).
        work: Units of work spent (see :mod:`.fisher_budget`).
    """

    p_value: float
    kind: Kind
    p_low: float
    work: int
    log_low: float = 0.0

    def describe(self) -> str:
        """Sentence for a result's reason; ``""`` for an exact p-value."""
        if self.kind == "below_floor":
            return (
                f"The p-value is below {P_FLOOR:g}, and is reported as 0: the observed table "
                f"has probability {_power_of_ten(self.log_low)}, and too few tables have "
                f"these margins to bring the sum up to {P_FLOOR:g}."
            )
        if self.kind == "bound":
            return (
                f"The exact sum was not needed: the p-value lies between {self.p_low:.3g} and "
                f"{self.p_value:.3g} (the observed table's probability, and that times the "
                "number of tables with these margins), which settles the significance stars; "
                "the upper bound is reported."
            )
        return ""


def _power_of_ten(log_value: float) -> str:
    """``exp(log_value)`` written as a power of ten, readable far below the smallest double."""
    exponent = math.floor(log_value / math.log(10))
    mantissa = math.exp(log_value - exponent * math.log(10))
    return f"about {mantissa:.1f} × 10^{exponent}"


def _network(
    counts: tuple[tuple[int, ...], ...], log_tol: float, budget: Budget, settled: bool
) -> float:
    """The network algorithm; a tenth of the budget when the bounds settle the stars.

    Its work cannot be foreseen (the two-column algorithms' can, and they refuse at once),
    so where the bounds already give the stars the exact value is worth a little work, as
    it says more than a bound, but not the whole budget. Tables of up to a few hundred
    answers take the stage-at-a-time form (:mod:`.fisher_stagewise`), larger ones the
    node-at-a-time form (:mod:`.fisher_network`).
    """
    walk = stagewise_pvalue if stagewise_fits(counts) else network_pvalue
    if not settled:
        return walk(counts, log_tol, budget)
    share = Budget(min(budget.limit - budget.used, budget.limit // _SETTLED_SHARE))
    try:
        return walk(counts, log_tol, share)
    finally:
        budget.charge(share.used)


def _exact(
    counts: tuple[tuple[int, ...], ...],
    log_tol: float,
    budget: Budget,
    settled: bool,
    log_tables: float,
) -> float:
    r, c = len(counts), len(counts[0])
    if (r, c) != (2, 2) and compiled_suits(counts):
        # Up to a few hundred answers: the walk in C, faster than R's FEXACT on every
        # shape measured and than the Python forms below by 4-5,000 times on small tables
        # (bench/bench_stats.py).
        return compiled_pvalue(counts, log_tol, budget)
    rows = [sum(row) for row in counts]
    cols = [sum(col) for col in zip(*counts, strict=True)]
    if (r, c) != (2, 2) and plain_suits(rows, cols, log_tables) and stagewise_fits(counts):
        # Few tables: the plain-Python walk answers in a millisecond or so, whatever the
        # shape (the two-column algorithms are built for large counts).
        return stagewise_pvalue(counts, log_tol, budget)
    if c == 2 or r == 2:
        # Two answer options (or two groups): a one-parameter family per row.
        if c == 2:
            totals = [a + b for a, b in counts]
            first = [a for a, _ in counts]
        else:
            totals = [sum(col) for col in zip(*counts, strict=True)]
            first = list(counts[0])
        if len(totals) <= 4:
            return two_column_pvalue(totals, first, log_tol, budget)
        # Meeting in the middle suits a few large groups, the network many small ones
        # (12 groups of 20: 0.02 s by the network, 1.3 s by the middle; 5 groups of
        # 200,000: the reverse). The middle is tried first with half the budget, since it
        # knows its size before it starts; the network gets what is left.
        first_try = Budget(budget.limit // 2)
        try:
            p = many_rows_pvalue(totals, first, log_tol, first_try)
        except ExactTestTooLarge:
            budget.charge(first_try.used)
        else:
            budget.charge(first_try.used)
            return p
    return _network(counts, log_tol, budget, settled)


def fisher_test(
    counts: tuple[tuple[int, ...], ...], max_work: int = DEFAULT_MAX_WORK
) -> ExactOutcome:
    """The exact two-sided p-value of a table with no empty row or column, at least 2 × 2.

    Args:
        counts: The table as a tuple of rows.
        max_work: Units of work allowed (see :mod:`.fisher_budget`).

    Returns:
        The p-value as R's ``fisher.test`` defines it, or what could be said of it (see
        :class:`ExactOutcome`).

    Raises:
        ExactTestTooLarge: The exact sum would exceed the budget and the bounds do not
            settle the significance stars.
    """
    r, c = len(counts), len(counts[0])
    log_tol = math.log(TWO_BY_TWO_REL_ERR) if (r, c) == (2, 2) else FEXACT_LOG_TOL
    bound = tail_bound(counts, log_tol)
    if bound.below_floor:
        return ExactOutcome(0.0, "below_floor", bound.low, 0, bound.log_low)
    settled = stars(bound.low) == stars(bound.high)
    budget = Budget(max_work)
    try:
        p = _exact(counts, log_tol, budget, settled, bound.log_tables)
    except ExactTestTooLarge:
        if settled:
            return ExactOutcome(bound.high, "bound", bound.low, budget.used, bound.log_low)
        raise
    return ExactOutcome(p, "exact", p, budget.used, math.log(p) if p > 0 else -math.inf)


def fisher_pvalue(counts: tuple[tuple[int, ...], ...], max_work: int = DEFAULT_MAX_WORK) -> float:
    """:func:`fisher_test`'s p-value alone (0.0 below 1e-300, an upper bound if so settled)."""
    return fisher_test(counts, max_work).p_value
