"""The comparison with an earlier wave, as the report prints it.

The figures come from the analysis engine (`sharedground.analysis.trend`): each row's
percentage now and then per group and overall, the change in points with its 95% interval
and p-value. This module turns that result into the report's `Comparison`, for the national
report and for a trust's:

* against a stored wave that has responses from the trust: the trust then and now, for the
  groups with at least the suppression threshold of respondents in both waves. The engine
  withholds small cells in each wave (and the cells that would give them away), so no
  figure under the threshold reaches a table, a chart or a key point;
* against the published 2002 or 2015 figures, which exist only nationally: the trust's
  figures beside the national ones, as context. Where the published count was rebuilt from
  a rounded percentage, no test is made: the engine marks such cells approximate, and a
  p-value from a rebuilt count set against a few dozen answers would claim a precision
  that is not there.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

from sharedground.analysis import trend as analysis_trend
from sharedground.analysis.grouping import grouping
from sharedground.analysis.results import Analysis
from sharedground.analysis.source import WaveData
from sharedground.analysis.suppression import suppress
from sharedground.report.model import (
    NATIONAL_CONTEXT,
    OVERALL,
    SAME,
    Comparison,
    TrendPoint,
    TrendRow,
)

if TYPE_CHECKING:
    from sharedground.analysis.disclosure.decide import DisclosureView


def from_analysis(
    trend: Any,
    label: str,
    *,
    groups: tuple[str, ...] | None = None,
    scope: str = SAME,
) -> Comparison:
    """The report's comparison from an analysis `Trend` (its rows and notes).

    Args:
        trend: the analysis engine's `Trend`.
        label: what the earlier figures are called in the report.
        groups: the groups to keep (None: all); the overall figure is always kept.
        scope: SAME or NATIONAL_CONTEXT (see `Comparison`). In national context an
            approximate cell carries no test.
    """
    rows = []
    for row in trend.rows:
        points = {}
        for group, change in row.cells.items():
            key = OVERALL if group == "overall" else group
            if change is None or (groups is not None and key != OVERALL and key not in groups):
                continue
            untested = scope == NATIONAL_CONTEXT and change.approximate
            points[key] = TrendPoint(
                now=change.now.pct,
                then=change.then.pct,
                diff=change.diff,
                ci_low=None if untested else change.ci_low,
                ci_high=None if untested else change.ci_high,
                p_value=None if untested else change.p_value,
                approximate=change.approximate,
            )
        if points:
            rows.append(TrendRow(row.table, row.item, row.option, row.label, points))
    kept = (
        ("Earlier figures", "2002")
        if scope == NATIONAL_CONTEXT
        else ("Earlier figures", "approximate", "2002")
    )
    # In national context approximate cells have no test: the engine's note on their
    # approximate p-values would describe figures the report does not print.
    notes = [n for n in trend.notes if n.startswith(kept)]
    return Comparison(label, rows, " ".join(notes), scope=scope, groups=groups)


def shown_groups(data: WaveData, threshold: int) -> set[str]:
    """Role groups of `data` that the analysis engine shows (not withheld for their size).

    The engine's own rule (`suppression.suppress` on respondents per group, empty groups
    left out), without analysing every table of the wave.
    """
    split = grouping(data.instrument, "role", data.frame)
    sizes = data.frame.group_by(split.expr.alias("key")).len()
    by_key = dict(zip(sizes["key"].to_list(), sizes["len"].to_list(), strict=True))
    present = [(gid, by_key.get(key, 0)) for key, gid in zip(split.keys, split.ids, strict=True)]
    present = [(gid, n) for gid, n in present if n > 0]
    if not present:
        return set()
    withheld, _ = suppress(np.array([n for _, n in present]), data.frame.height, threshold)
    return {gid for (gid, _), hidden in zip(present, withheld, strict=True) if not hidden}


def trust_subset(
    data: WaveData, trust: str, parts: dict[str, pl.DataFrame] | None = None
) -> WaveData:
    """One trust's responses in a wave, analysed as a wave of their own.

    `parts` is the wave's frame split by trust (`by_trust`), for a caller taking every
    trust in turn: one split instead of a pass over the whole wave per trust.
    """
    if parts is None:
        frame = data.frame.filter(pl.col("trust") == trust)
    else:
        frame = parts.get(trust, data.frame.clear())
    return WaveData(data.name, data.instrument, data.suppression_threshold, frame, "subset")


def by_trust(data: WaveData) -> dict[str, pl.DataFrame]:
    """The wave's responses split by trust (the trust code as key, rows in wave order)."""
    return {
        key[0]: frame
        for key, frame in data.frame.partition_by(
            "trust", as_dict=True, maintain_order=True
        ).items()
        if isinstance(key[0], str)
    }


def trust_change(
    now: WaveData,
    then: WaveData,
    label: str,
    shown: Iterable[str],
    threshold: int,
    current: Analysis | None = None,
    then_disclosure: DisclosureView | None = None,
) -> Comparison:
    """A trust in this wave against the same trust in an earlier stored wave.

    Args:
        now, then: the trust's responses in each wave (`trust_subset`).
        label: the earlier wave's name as the report prints it.
        shown: the groups the trust report shows.
        threshold: the report's suppression threshold, applied to both waves.
        current: `now` already analysed by role at `threshold`, if the caller has it.
        then_disclosure: the earlier wave's disclosure decision for this trust: the
            earlier figures are withheld where that wave's own outputs withheld them (a
            group or cell kept back to protect another), as well as under `threshold`.
    """
    if then.frame.height == 0:
        return Comparison(
            label,
            [],
            scope=SAME,
            groups=(),
            unavailable=f"Wave {label} has no responses from this trust, so no change in "
            "this trust can be shown.",
        )
    earlier = shown_groups(then, threshold)
    if then_disclosure is not None:
        # The earlier wave's decision may withhold a whole group of this trust that is not
        # small itself (the complement of a small one): its column stays out too.
        ids = sorted(earlier)
        kept = ~then_disclosure.sizes(ids)
        earlier = {g for g, keep in zip(ids, kept, strict=True) if keep}
    both = tuple(g for g in shown if g in earlier)
    trend = analysis_trend.against_wave(
        now, then, threshold=threshold, current=current, then_disclosure=then_disclosure
    )
    return from_analysis(trend, label, groups=both)


def national_context(now: WaveData, year: str, shown: Iterable[str], threshold: int) -> Comparison:
    """A trust's figures beside the published national ones of 2002 or 2015."""
    trend = analysis_trend.against_published(now, year, threshold)
    return from_analysis(trend, f"{year} (published)", groups=tuple(shown), scope=NATIONAL_CONTEXT)
