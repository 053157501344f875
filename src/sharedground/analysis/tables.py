"""Every table of a wave, by group: counts, denominators, percentages, tests, summaries.

`analyse` is the library call behind `sharedground analyse`. The tables are those of the
wave's instrument (its `tables:` block), so an organisation's own questionnaire gets its
tables the same way the 2015 survey does.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from sharedground.analysis import significance, summaries
from sharedground.analysis.counting import Counts, count
from sharedground.analysis.grouping import Grouping, grouping
from sharedground.analysis.results import (
    Analysis,
    Cell,
    GroupInfo,
    RowResult,
    TableResult,
)
from sharedground.analysis.rows import RowSpec, table_rows
from sharedground.analysis.source import WaveData
from sharedground.analysis.suppression import suppress

if TYPE_CHECKING:
    from sharedground.analysis.disclosure.attributes import AttributeView, TrustMarginView
    from sharedground.analysis.disclosure.decide import DisclosureView
    from sharedground.analysis.weights.tabulate import WeightedCounts
    from sharedground.analysis.weights.weighting import WaveWeights


@dataclass(frozen=True)
class Options:
    """How to analyse: grouping, adjustment, summary thresholds, suppression."""

    by: str = "role"
    adjust: str | None = None
    agreement: float = summaries.AGREEMENT
    disagreement: float = summaries.DISAGREEMENT
    #: None uses the wave's own `suppression_threshold`.
    suppression_threshold: int | None = None
    #: The wave's disclosure decision as this analysis reads it (by role: a trust's or
    #: the nation's; by trust, mode or a question: the national table's, from
    #: `disclosure.attributes`): which cells to withhold, decided once for every output of
    #: the wave. None: each row is suppressed on its own (`suppression.suppress`).
    disclosure: DisclosureView | AttributeView | TrustMarginView | None = None
    #: With weights: the Rao-Scott statistic of the tests ("F", "Chisq" or "Wald").
    weighted_test: str = "F"


def analyse(
    data: WaveData, options: Options | None = None, weights: WaveWeights | None = None
) -> Analysis:
    """Compute every table of the wave's instrument.

    With `weights` (other than "none"), each cell also carries its weighted percentage,
    SE and intervals, and each row's test is the Rao-Scott test of `options.weighted_test`
    (`sharedground.analysis.weights`); counts and denominators stay unweighted.
    """
    options = options or Options()
    weighted = weights is not None and weights.kind != "none"
    if options.adjust is not None and options.adjust not in significance.ADJUSTMENTS:
        allowed = ", ".join(significance.ADJUSTMENTS)
        raise ValueError(f"unknown adjustment {options.adjust!r}; use one of {allowed}")
    threshold = (
        data.suppression_threshold
        if options.suppression_threshold is None
        else options.suppression_threshold
    )
    if options.disclosure is not None and options.by != getattr(options.disclosure, "by", "role"):
        raise ValueError(f"this disclosure decision does not cover tables by {options.by}")
    instrument = data.instrument
    split = grouping(instrument, options.by, data.frame)
    per_table = [(t, table_rows(instrument, t)) for t in instrument.tables]
    specs = [spec for _, rows in per_table for spec in rows]
    wc = None
    if weighted:
        from sharedground.analysis.weights.tabulate import weighted_count

        assert weights is not None
        # one pass gives the weighted sums and the unweighted counts alike
        wc = weighted_count(data.frame, specs, split.expr, split.keys, weights)
        counts = wc.counts(split.keys)
    else:
        counts = count(data.frame, specs, split.expr, split.keys)
    # Under a disclosure decision, an empty group the decision withholds stays (withheld):
    # leaving it out would tell a reader nobody of that group responded.
    keep = None if options.disclosure is None else options.disclosure.sizes(split.ids)
    counts, split, wc = _drop_empty_groups(counts, split, wc, keep)

    results = build_rows(
        specs, counts, split.ids, threshold, options.disclosure, wc, options.weighted_test
    )
    tables: list[TableResult] = []
    position = 0
    for table, rows in per_table:
        table_results = results[position : position + len(rows)]
        position += len(rows)
        if options.adjust:
            qs = significance.q_values([r.test.p_value for r in table_results], options.adjust)
            for result, q in zip(table_results, qs, strict=True):
                result.q_value = q
        tables.append(TableResult(table.id, table.title, table_results))

    if options.disclosure is not None:
        sizes = options.disclosure.sizes(split.ids)
    else:
        sizes, _ = suppress(counts.respondents, counts.overall_respondents, threshold)
    groups = [
        GroupInfo(gid, label, None if sizes[i] else int(counts.respondents[i]))
        for i, (gid, label) in enumerate(zip(split.ids, split.labels, strict=True))
    ]
    notes = _notes(counts, split, threshold)
    if weighted:
        assert weights is not None
        notes.append(
            f"Weighted ({weights.kind}): percentages weighted, with linearised standard "
            "errors and 95% intervals (logit and beta, as R's svyciprop); counts and "
            "denominators unweighted; tests are Rao-Scott "
            f"{options.weighted_test} (R's svychisq)."
        )
    return Analysis(
        wave=data.name,
        instrument=instrument.key,
        generated_at=dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        by=options.by,
        groups=groups,
        respondents=counts.overall_respondents,
        ungrouped=counts.ungrouped,
        suppression_threshold=threshold,
        adjust=options.adjust,
        tables=tables,
        summaries=summaries.summarise(tables, options.agreement, options.disagreement),
        notes=notes,
        weighting=weights.to_json() if weighted and weights is not None else None,
    )


def build_rows(
    specs: Sequence[RowSpec],
    counts: Counts,
    group_ids: Sequence[str],
    threshold: int,
    disclosure: DisclosureView | AttributeView | TrustMarginView | None = None,
    wc: WeightedCounts | None = None,
    weighted_test: str = "F",
) -> list[RowResult]:
    """Cells, suppression and the test for each row of `counts` (weighted with `wc`).

    With `disclosure`, row i withholds what the wave's decision says; otherwise each row
    is suppressed on its own.
    """
    results: list[RowResult] = []
    figures = None
    if wc is not None:
        from sharedground.analysis.weights import cells as wcells

        by_group, overall_w = wcells.row_proportions(wc)
    for i, spec in enumerate(specs):
        counted, valid = counts.counted[i], counts.valid[i]
        overall_valid = int(counts.overall_valid[i])
        if disclosure is not None:
            withheld, overall_withheld = disclosure.row(i, list(group_ids))
        else:
            withheld, overall_withheld = suppress(valid, overall_valid, threshold, counted)
        if wc is not None:
            figures = [wcells.weighted_figure(by_group, (i, j + 1)) for j in range(len(group_ids))]
        cells = {
            gid: Cell.withheld()
            if withheld[j]
            else Cell(int(counted[j]), int(valid[j]), weighted=figures[j] if figures else None)
            for j, gid in enumerate(group_ids)
        }
        overall = (
            Cell.withheld()
            if overall_withheld
            else Cell(
                int(counts.overall_counted[i]),
                overall_valid,
                weighted=wcells.weighted_figure(overall_w, (i,)) if wc is not None else None,
            )
        )
        shown = ~withheld
        if wc is not None:
            test = wcells.weighted_test(wc, i, shown, weighted_test)
        else:
            test = significance.compare(counted[shown], valid[shown])
        notes: list[str] = []
        if withheld.any() and test.name != "none":
            notes.append(f"test across the {int(shown.sum())} groups shown (others withheld)")
        everyone = None
        if spec.all_respondents:
            everyone = (
                Cell.withheld()
                if overall_withheld
                else Cell(int(counts.overall_counted[i]), counts.overall_respondents)
            )
            notes.append(
                "overall_all_respondents divides the same count by everyone in the wave, "
                "the basis of the 2015 report's Overall column for this kind of row"
            )
        results.append(RowResult(spec, cells, overall, test, None, everyone, notes))
    return results


def _drop_empty_groups(
    counts: Counts,
    split: Grouping,
    wc: WeightedCounts | None = None,
    also: npt.NDArray[np.bool_] | None = None,
) -> tuple[Counts, Grouping, WeightedCounts | None]:
    """Leave out groups nobody belongs to (a mode not used, a country not sampled), except
    those marked in `also`."""
    keep = counts.respondents > 0
    if also is not None:
        keep = keep | also
    if keep.all():
        return counts, split, wc
    index = np.flatnonzero(keep)
    if wc is not None:
        import dataclasses

        along = np.concatenate([[0], index + 1])  # the ungrouped slot stays first
        wc = dataclasses.replace(
            wc,
            **{k: getattr(wc, k)[:, along] for k in ("n1", "n0", "w1", "w0", "q1", "q0")},
        )
    trimmed = Counts(
        keys=[counts.keys[i] for i in index],
        counted=counts.counted[:, index],
        valid=counts.valid[:, index],
        respondents=counts.respondents[index],
        overall_counted=counts.overall_counted,
        overall_valid=counts.overall_valid,
        overall_respondents=counts.overall_respondents,
        ungrouped=counts.ungrouped,
    )
    narrowed = Grouping(
        split.by,
        split.expr,
        [split.keys[i] for i in index],
        [split.ids[i] for i in index],
        [split.labels[i] for i in index],
    )
    return trimmed, narrowed, wc


def _notes(counts: Counts, split: Grouping, threshold: int) -> list[str]:
    notes = [
        "Each cell gives the count, its denominator (valid) and the percentage; each row "
        "names its denominator rule (see `denominators`).",
        f"Cells with fewer than {threshold} valid answers are withheld, with as many "
        "other cells as it takes to stop them being worked out by subtraction.",
        "Stars come from the unadjusted p-value: *** p < 0.001, ** p < 0.01, * p < 0.05, "
        "n.s. otherwise.",
    ]
    if counts.ungrouped:
        notes.append(
            f"{counts.ungrouped} respondent(s) gave no {split.by}; they are counted in the "
            "overall figures but in no group."
        )
    return notes
