"""Shortcut to :mod:`sharedground.analysis.stats` (``sharedground.stats.compare_groups``)."""

from sharedground.analysis.stats import (
    ExactTestTooLarge,
    FunnelLimits,
    ProportionComparison,
    TestResult,
    adjust,
    chi_square,
    compare_groups,
    fisher_exact,
    funnel_limits,
    stars,
    two_proportions,
)

__all__ = [
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
