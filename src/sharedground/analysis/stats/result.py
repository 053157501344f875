"""The result of a significance test and its conventional star rating."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

TestName = Literal["chi2", "fisher"]


def stars(p_value: float | None) -> str:
    """Conventional significance stars for a p-value.

    Args:
        p_value: The p-value, or None when no test could be done.

    Returns:
        ``"***"`` for p < 0.001, ``"**"`` for p < 0.01, ``"*"`` for p < 0.05, ``"n.s."``
        otherwise, and ``""`` when ``p_value`` is None.
    """
    if p_value is None:
        return ""
    if p_value < 0.001:
        return "***"
    if p_value < 0.01:
        return "**"
    if p_value < 0.05:
        return "*"
    return "n.s."


@dataclass(frozen=True)
class TestResult:
    """Outcome of comparing groups on a contingency table.

    Attributes:
        test: ``"chi2"`` (Pearson's chi-squared, no continuity correction) or ``"fisher"``
            (exact Fisher–Freeman–Halton test); None when no test could be done.
        statistic: The chi-squared statistic; None for the exact test, which has none.
        df: Degrees of freedom of the chi-squared test, ``(r - 1)(c - 1)``; None otherwise.
        p_value: The p-value, or None when the table allows no test (see ``reason``).
        reason: Plain-language account of what was done and why, including any groups or
            answer options dropped because nobody was in them.
    """

    __test__ = False  # not a pytest test class, despite the name

    test: TestName | None
    statistic: float | None
    df: int | None
    p_value: float | None
    reason: str

    @property
    def stars(self) -> str:
        """Significance stars for ``p_value`` (``""`` when there is none)."""
        return stars(self.p_value)
