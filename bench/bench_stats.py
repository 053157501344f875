"""Exact test on a 4 × 2 table with 1,000,000 respondents, beside SciPy peers in the same run.

    .venv/bin/python bench/bench_stats.py        # or: .venv/bin/python bench/run.py bench_stats

Figures are the best of a few wall-clock runs. Peers: ``scipy.stats.fisher_exact`` on a
2 × 2 table with the same N (SciPy's exact test only handles 2 × 2) and
``scipy.stats.chi2_contingency`` on the same 4 × 2 table. Target: the 4 × 2 exact test
well under a second (1 s is the bar).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from scipy import stats as scipy_stats

from sharedground.analysis.stats import fisher_exact

N_PER_GROUP = 250_000
# Second-column counts of the four groups (250,000 each); the p-values span the range.
SCENARIOS = {
    "p ~ 0.2": (125_000, 125_400, 124_700, 125_300),
    "p ~ 2e-3": (125_000, 125_800, 124_500, 125_400),
    "p ~ 2e-12": (125_000, 126_500, 124_000, 125_900),
}
TARGET_SECONDS = 1.0


def _best(fn: Callable[[], object], repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def run() -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    two_by_two = [[500_000 - 250_400, 250_400], [500_000 - 249_600, 249_600]]
    scipy_fisher = _best(lambda: scipy_stats.fisher_exact(two_by_two))
    ours_2x2 = _best(lambda: fisher_exact(two_by_two))
    rows.append(
        {
            "name": "exact 2×2, N=1e6 (ours)",
            "value": round(ours_2x2, 4),
            "unit": "s",
            "peer": "scipy.stats.fisher_exact 2×2",
            "peer_value": round(scipy_fisher, 4),
            "ratio": round(ours_2x2 / scipy_fisher, 2),
        }
    )
    for label, counts in SCENARIOS.items():
        table = [[N_PER_GROUP - x, x] for x in counts]
        ours = _best(lambda t=table: fisher_exact(t))  # type: ignore[misc]
        chi2 = _best(lambda t=table: scipy_stats.chi2_contingency(t, correction=False))
        p = fisher_exact(table).p_value
        rows.append(
            {
                "name": f"exact 4×2, N=1e6, {label} (p={p:.3g})",
                "value": round(ours, 4),
                "unit": "s",
                "peer": "scipy fisher_exact 2×2 / chi2_contingency 4×2",
                "peer_value": f"{scipy_fisher:.4f} / {chi2:.5f}",
                "ratio": f"{ours / scipy_fisher:.1f} / {ours / chi2:.0f}",
                "target": f"< {TARGET_SECONDS:g} s",
                "met": ours < TARGET_SECONDS,
            }
        )
    return rows


def main() -> None:
    rows = run()
    keys = ["name", "value", "unit", "peer", "peer_value", "ratio", "target", "met"]
    widths = {k: max(len(k), *(len(str(r.get(k, ""))) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for r in rows:
        print("  ".join(str(r.get(k, "")).ljust(widths[k]) for k in keys))


if __name__ == "__main__":
    main()
