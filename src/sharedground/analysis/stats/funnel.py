"""Control limits for funnel plots of proportions (Spiegelhalter 2005)."""

from __future__ import annotations

from collections.abc import Sequence
from statistics import NormalDist
from typing import Literal, NamedTuple

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]


class FunnelLimits(NamedTuple):
    """Lower and upper control limits at one level, one entry per denominator.

    A named tuple, so ``lower, upper = funnel_limits(p0, n)[0.95]`` works.

    Attributes:
        lower: Lower limits, as proportions in [0, 1] (NaN where the denominator is 0).
        upper: Upper limits, likewise.
    """

    lower: FloatArray
    upper: FloatArray


def _exact_quantile(prob: float, n: FloatArray, p0: float) -> FloatArray:
    """Interpolated binomial quantile of the proportion, as in Spiegelhalter (2005).

    ``r`` is the smallest count with ``P(R <= r) >= prob``; then
    ``alpha = (P(R <= r) - prob) / (P(R <= r) - P(R <= r - 1))`` and the limit is
    ``(r - alpha) / n``, which moves smoothly with ``n`` instead of in steps.
    """
    # scipy.stats costs most of a second to import; only funnel plots need it, so the
    # analysis commands that draw none start without it.
    from scipy.stats import binom

    r = np.asarray(binom.ppf(prob, n, p0), dtype=np.float64)
    # ppf works in floating point; settle r on the exact definition with direct checks.
    for _ in range(3):
        too_low = binom.cdf(r, n, p0) < prob
        r = np.where(too_low, r + 1, r)
        too_high = (r > 0) & (binom.cdf(r - 1, n, p0) >= prob)
        r = np.where(too_high, r - 1, r)
    at_r = binom.cdf(r, n, p0)
    below = binom.cdf(r - 1, n, p0)
    alpha = (at_r - prob) / (at_r - below)
    return np.asarray((r - alpha) / n, dtype=np.float64)


def funnel_limits(
    p0: float,
    n: npt.ArrayLike,
    levels: Sequence[float] = (0.95, 0.998),
    method: Literal["exact", "normal"] = "exact",
) -> dict[float, FunnelLimits]:
    """Funnel-plot control limits for a proportion with target ``p0`` and denominators ``n``.

    ``method="exact"`` (the default) gives the binomial limits of Spiegelhalter, D. J.
    (2005), Funnel plots for comparing institutional performance, Statistics in Medicine
    24, 1185–1202: the ``(1 - level)/2`` and ``(1 + level)/2`` quantiles of
    ``Binomial(n, p0) / n``, interpolated between counts as ``(r - alpha) / n`` (see
    :func:`_exact_quantile`), the interpolation used by the common funnel-plot tools.
    ``method="normal"`` gives the normal approximation ``p0 ± z sqrt(p0 (1 - p0) / n)``.
    Limits are clipped to [0, 1].

    Args:
        p0: Target proportion, in [0, 1].
        n: Denominator(s): a whole number or an array of them (vectorised).
        levels: Coverage levels, each strictly between 0 and 1.
        method: ``"exact"`` or ``"normal"``.

    Returns:
        For each level, a :class:`FunnelLimits` ``(lower, upper)`` whose arrays have the
        shape of ``n``.

    Raises:
        ValueError: ``p0`` outside [0, 1], a level outside (0, 1), negative or fractional
            denominators, or an unknown method.
    """
    if not 0.0 <= p0 <= 1.0:
        raise ValueError(f"p0 must lie in [0, 1]; got {p0!r}")
    if method not in ("exact", "normal"):
        raise ValueError(f"unknown method {method!r}; use 'exact' or 'normal'")
    sizes = np.asarray(n, dtype=np.float64)
    if np.any(~np.isfinite(sizes)) or np.any(sizes < 0) or np.any(sizes != np.floor(sizes)):
        raise ValueError("denominators must be non-negative whole numbers")
    empty = sizes == 0
    safe = np.where(empty, 1.0, sizes)  # placeholder, replaced by NaN below
    out: dict[float, FunnelLimits] = {}
    for level in levels:
        if not 0.0 < level < 1.0:
            raise ValueError(f"levels must lie strictly between 0 and 1; got {level!r}")
        tail = (1.0 - level) / 2.0
        if method == "exact":
            lower = _exact_quantile(tail, safe, p0)
            upper = _exact_quantile(1.0 - tail, safe, p0)
        else:
            half = NormalDist().inv_cdf(1.0 - tail) * np.sqrt(p0 * (1.0 - p0) / safe)
            lower, upper = p0 - half, p0 + half
        lower = np.where(empty, np.nan, np.clip(lower, 0.0, 1.0))
        upper = np.where(empty, np.nan, np.clip(upper, 0.0, 1.0))
        out[level] = FunnelLimits(lower, upper)
    return out
