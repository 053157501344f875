"""The work budget of the exact tests, and the condition raised when it runs out.

Every algorithm charges *units of work* before doing the work, so a hopeless table is
refused before time is spent on it. One unit is calibrated to about 40 ns of computation on
the machine the figures in ``bench/bench_stats.py`` come from (a numpy element handled, or a
share of a Python step): 25 million units are about one second. Tests check work counts,
which do not depend on the machine or its load; ``make bench`` shows the seconds.
"""

from __future__ import annotations

#: Units of work in about one second of computation (see the module docstring).
UNITS_PER_SECOND = 25_000_000
#: Budget for the tables the analysis builds itself (groups x counted / not counted): about
#: 0.6 s nominally, so that each test answers or is refused within a second even where a
#: unit runs slower than nominal (150 trusts x 2 is refused in 0.6-0.9 s of CPU).
ANALYSIS_MAX_WORK = 15_000_000
#: Budget of :func:`~sharedground.analysis.stats.fisher_exact` when asked for directly: about
#: four seconds, enough for every 6 x 4 table of up to 100 answers tried (R's ``fisher.test``
#: needs a workspace well above its default for the hardest of them).
DEFAULT_MAX_WORK = 4 * UNITS_PER_SECOND
#: Cost charged for one step of a Python loop in an algorithm (numpy calls and the like).
STEP = 400


class ExactTestTooLarge(RuntimeError):
    """The exact test would need more work than the configured budget allows."""


class Budget:
    """Units of work allowed and used; :meth:`charge` raises once the limit is passed."""

    __slots__ = ("limit", "used")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def charge(self, units: float) -> None:
        """Count ``units`` of work about to be done, refusing them if over the limit.

        Refused work is not counted: ``used`` is what was done.
        """
        if self.used + int(units) > self.limit:
            raise ExactTestTooLarge(
                f"the exact test needs more than {self.limit:,} units of work for this table"
            )
        self.used += int(units)
