"""Significance tests and related statistics for comparing groups of respondents.

Public API:

* :func:`compare_groups` — chi-squared or exact test on an r × c table, chosen by the
  expected counts; :func:`chi_square` and :func:`fisher_exact` force one test.
* :class:`TestResult` and :func:`stars` — the outcome and its significance stars.
* :func:`adjust` — Benjamini–Hochberg and Holm adjustments.
* :func:`two_proportions` — difference of two proportions with Newcombe's interval.
* :func:`funnel_limits` — funnel-plot control limits for a proportion.
"""

from .adjust import adjust
from .compare import MIN_EXPECTED, chi_square, compare_groups, fisher_exact
from .fisher import FEXACT_LOG_TOL, TWO_BY_TWO_REL_ERR, ExactTestTooLarge
from .funnel import FunnelLimits, funnel_limits
from .proportions import ProportionComparison, two_proportions
from .result import TestResult, stars

__all__ = [
    "FEXACT_LOG_TOL",
    "MIN_EXPECTED",
    "TWO_BY_TWO_REL_ERR",
    "ExactTestTooLarge",
    "FunnelLimits",
    "ProportionComparison",
    "TestResult",
    "adjust",
    "chi_square",
    "compare_groups",
    "fisher_exact",
    "funnel_limits",
    "stars",
    "two_proportions",
]
