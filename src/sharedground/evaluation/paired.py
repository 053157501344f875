"""Paired tests of before/after answers, each with a 95% confidence interval of the change.

- Agree/not (0/1): the exact McNemar test (two-sided binomial test of the discordant pairs)
  and Newcombe's hybrid score interval for the change in the proportion agreeing (method 10 of
  Newcombe, *Statistics in Medicine* 1998;17:2635–50: Wilson intervals for the two marginal
  proportions combined with the pairs' phi correlation).
- Ratings: the Wilcoxon signed-rank test with the Hodges–Lehmann estimate of the change and its
  interval from the Walsh averages (exact when there are at most 50 pairs and no ties or zero
  changes, as in R's `wilcox.test`; otherwise the normal approximation of the rank), and the
  sign test with the median change and its order-statistic interval.

Pairs with either answer missing are not used; they are counted as lost to follow-up when
the first answer is there and the second is not. Fewer than `min_pairs` pairs give no test,
only "not enough to judge".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from sharedground.analysis.suppression import DEFAULT_THRESHOLD

Z95 = 1.959963984540054
#: Fewer pairs than this: no test is reported (the survey's default suppression threshold).
MIN_PAIRS = DEFAULT_THRESHOLD


@dataclass(frozen=True)
class PairedResult:
    """One paired test. `estimate` is the change (after minus before) on the measure's scale."""

    test: str  # "mcnemar", "signed_rank" or "sign"
    n_pairs: int
    n_lost: int
    estimate: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    statistic: float | None
    note: str

    @property
    def enough(self) -> bool:
        return self.p_value is not None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _pairs(before: ArrayLike, after: ArrayLike) -> tuple[np.ndarray, np.ndarray, int]:
    b = np.asarray(before, dtype=float)
    a = np.asarray(after, dtype=float)
    if b.shape != a.shape:
        raise ValueError("before and after must have one answer per person each")
    lost = int(np.sum(~np.isnan(b) & np.isnan(a)))
    both = ~np.isnan(b) & ~np.isnan(a)
    return b[both], a[both], lost


def _count(k: int) -> str:
    """A count of people as printed: under the suppression threshold it is withheld (these are
    a few named participants' answers)."""
    return str(k) if k >= DEFAULT_THRESHOLD else f"fewer than {DEFAULT_THRESHOLD}"


def _shown(k: int) -> float | None:
    """A test statistic that is a count of people: withheld like the count."""
    return float(k) if k >= DEFAULT_THRESHOLD else None


def _too_few(test: str, n: int, lost: int, min_pairs: int) -> PairedResult:
    return PairedResult(
        test, n, lost, None, None, None, None, None,
        f"not enough to judge: {n} pair(s), fewer than {min_pairs}",
    )  # fmt: skip


def _wilson(x: float, n: int, z: float = Z95) -> tuple[float, float]:
    p = x / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def newcombe_paired_ci(a: int, b: int, c: int, d: int, z: float = Z95) -> tuple[float, float]:
    """95% interval of p_after - p_before for a paired 2x2 table.

    a: agree before and after, b: agree before only, c: agree after only, d: neither.
    Newcombe (1998) method 10, with the change taken as after minus before.
    """
    n = a + b + c + d
    p1, p2 = (a + b) / n, (a + c) / n  # before, after
    l1, u1 = _wilson(a + b, n, z)
    l2, u2 = _wilson(a + c, n, z)
    denom = (a + b) * (c + d) * (a + c) * (b + d)
    phi = (a * d - b * c) / math.sqrt(denom) if denom > 0 else 0.0
    theta = p2 - p1
    lower = math.sqrt(max(0.0, (p2 - l2) ** 2 - 2 * phi * (p2 - l2) * (u1 - p1) + (u1 - p1) ** 2))
    upper = math.sqrt(max(0.0, (u2 - p2) ** 2 - 2 * phi * (u2 - p2) * (p1 - l1) + (p1 - l1) ** 2))
    return max(-1.0, theta - lower), min(1.0, theta + upper)


def mcnemar(before: ArrayLike, after: ArrayLike, *, min_pairs: int = MIN_PAIRS) -> PairedResult:
    """Exact McNemar test of 0/1 answers; estimate: change in the proportion agreeing."""
    from scipy.stats import binomtest

    b_, a_, lost = _pairs(before, after)
    n = b_.size
    if n < min_pairs:
        return _too_few("mcnemar", n, lost, min_pairs)
    if not np.all(np.isin(b_, (0, 1)) & np.isin(a_, (0, 1))):
        raise ValueError("McNemar's test needs answers coded 0 and 1")
    a = int(np.sum((b_ == 1) & (a_ == 1)))
    b = int(np.sum((b_ == 1) & (a_ == 0)))
    c = int(np.sum((b_ == 0) & (a_ == 1)))
    d = n - a - b - c
    p = 1.0 if b + c == 0 else float(binomtest(min(b, c), b + c, 0.5).pvalue)
    low, high = newcombe_paired_ci(a, b, c, d)
    return PairedResult(
        "mcnemar", n, lost, (c - b) / n, low, high, min(1.0, p), _shown(min(b, c)),
        f"{_count(c)} changed to agree, {_count(b)} away; exact binomial test of the "
        "discordant pairs; Newcombe's interval",
    )  # fmt: skip


def _signrank_cdf(n: int) -> np.ndarray:
    """P(T+ <= k) for k = 0 .. n(n+1)/2 under the null, by counting subsets of ranks."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for rank in range(1, n + 1):
        counts[rank:] = counts[rank:] + counts[:-rank].copy()
    cdf: np.ndarray = np.cumsum(counts) / counts.sum()
    return cdf


def walsh_averages(d: np.ndarray) -> np.ndarray:
    """Every (d_i + d_j)/2 with i <= j, sorted."""
    i, j = np.triu_indices(d.size)
    return np.sort((d[i] + d[j]) / 2)


def signed_rank(before: ArrayLike, after: ArrayLike, *, min_pairs: int = MIN_PAIRS) -> PairedResult:
    """Wilcoxon signed-rank test; estimate: Hodges–Lehmann pseudo-median of the change.

    The p-value is SciPy's (zero changes dropped, as Wilcoxon did and R does; exact when
    possible, otherwise the normal approximation with the tie correction). The interval
    comes from the Walsh averages of every change (zeros kept: they are changes of none).
    """
    from scipy.stats import wilcoxon

    b_, a_, lost = _pairs(before, after)
    d = a_ - b_
    n = d.size
    if n < min_pairs:
        return _too_few("signed_rank", n, lost, min_pairs)
    walsh = walsh_averages(d)
    estimate = float(np.median(walsh))
    nonzero = d[d != 0]
    ties = np.unique(np.abs(d)).size < n or nonzero.size < n
    if nonzero.size == 0:
        p, stat = 1.0, 0.0
    else:
        # The exact null distribution holds only without ties: with them, the normal
        # approximation with SciPy's tie correction (SciPy's "auto" would stay exact).
        exact = nonzero.size <= 50 and np.unique(np.abs(nonzero)).size == nonzero.size
        result = wilcoxon(nonzero, zero_method="wilcox", method="exact" if exact else "approx")
        p, stat = float(result.pvalue), float(result.statistic)
    if n <= 50 and not ties:
        cdf = _signrank_cdf(n)
        # R: qu = qsignrank(alpha/2, n) (smallest k with P(T <= k) >= alpha/2), at least 1
        qu = max(1, int(np.searchsorted(cdf, 0.025 - 1e-12)))
        ql = n * (n + 1) // 2 - qu
        low, high = walsh[qu - 1], walsh[ql]
        how = "exact"
    else:
        m = walsh.size
        k = math.floor(n * (n + 1) / 4 - Z95 * math.sqrt(n * (n + 1) * (2 * n + 1) / 24))
        k = max(1, k)
        low, high = walsh[k - 1], walsh[m - k]
        how = "normal approximation"
    return PairedResult(
        "signed_rank", n, lost, estimate, float(low), float(high), p, stat,
        f"Hodges–Lehmann change, Walsh-average interval ({how}); "
        f"{n - nonzero.size} pair(s) unchanged",
    )  # fmt: skip


def sign_test(before: ArrayLike, after: ArrayLike, *, min_pairs: int = MIN_PAIRS) -> PairedResult:
    """Sign test; estimate: median change with its order-statistic 95% interval."""
    from scipy.stats import binom, binomtest

    b_, a_, lost = _pairs(before, after)
    d = np.sort(a_ - b_)
    n = d.size
    if n < min_pairs:
        return _too_few("sign", n, lost, min_pairs)
    up, down = int(np.sum(d > 0)), int(np.sum(d < 0))
    p = 1.0 if up + down == 0 else float(binomtest(up, up + down, 0.5).pvalue)
    # largest k with 2 P(B <= k - 1) <= 0.05, B ~ Bin(n, 1/2): [d_(k), d_(n-k+1)]
    k = int(binom.ppf(0.025, n, 0.5))
    if binom.cdf(k, n, 0.5) > 0.025:
        k -= 1
    k = max(k, 0) + 1  # 1-based order statistic d_(k)
    if 2 * binom.cdf(k - 1, n, 0.5) > 0.05 or k > n - k + 1:
        low, high, level = float(d[0]), float(d[-1]), 1 - 2 * 0.5**n
    else:
        low, high = float(d[k - 1]), float(d[n - k])
        level = 1 - 2 * float(binom.cdf(k - 1, n, 0.5))
    return PairedResult(
        "sign", n, lost, float(np.median(d)), low, high, min(1.0, p), _shown(min(up, down)),
        f"{_count(up)} up, {_count(down)} down, {_count(n - up - down)} unchanged; interval "
        f"covers the median change with at least {level:.1%}",
    )  # fmt: skip
