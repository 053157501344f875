"""Benchmarks per organisation: each trust against everyone else, the national figure, a funnel.

For every trust and row: its count, denominator and percentage; whether it is significantly
above or below everyone else in the wave (two-proportion test, p < 0.05, with the
difference and its 95% interval); where it sits against the published national figure and
against this wave's national figure on a funnel plot (control limits at 95% and 99.8% for
its denominator). Small cells are withheld as in the tables (`suppression`), across
trusts, and a withheld trust's comparison with everyone else is withheld too (everyone
else = national minus the trust). Only counts by trust are ever shown, never answers.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from sharedground import stats
from sharedground.analysis import published
from sharedground.analysis.counting import count
from sharedground.analysis.grouping import grouping
from sharedground.analysis.results import Cell
from sharedground.analysis.rows import RowSpec, table_rows
from sharedground.analysis.significance import two_proportions
from sharedground.analysis.source import WaveData
from sharedground.analysis.suppression import suppress

if TYPE_CHECKING:
    from sharedground.analysis.weights.tabulate import WeightedCounts
    from sharedground.analysis.weights.weighting import WaveWeights

LEVELS = (0.95, 0.998)
#: Denominators at which the funnel's limits are tabulated (plus every trust's own).
_GRID_POINTS = 40


@dataclass(frozen=True)
class VersusRest:
    """A trust against everyone else in the wave."""

    rest: Cell
    diff: float
    ci_low: float
    ci_high: float
    p_value: float | None  # None: everyone gave the same answer, so nothing to test
    #: "newcombe" (unweighted) or "wald" (weighted, linearised variance of the difference).
    method: str = "newcombe"

    @property
    def flag(self) -> str:
        if self.p_value is None or self.p_value >= 0.05:
            return "similar"
        return "above" if self.diff > 0 else "below"

    def to_json(self) -> dict[str, Any]:
        return {
            "rest": self.rest.to_json(),
            "diff_points": self.diff,
            "ci95": [self.ci_low, self.ci_high],
            "p_value": self.p_value,
            "flag": self.flag,
        } | ({"method": self.method} if self.method != "newcombe" else {})


@dataclass(frozen=True)
class TrustCell:
    cell: Cell
    versus_rest: VersusRest | None
    #: Against this wave's national figure, and against the published one: the funnel band.
    funnel: str | None
    versus_published: str | None

    def to_json(self) -> dict[str, Any]:
        data = self.cell.to_json()
        data["versus_rest"] = self.versus_rest.to_json() if self.versus_rest else None
        data["funnel"] = self.funnel
        data["versus_published"] = self.versus_published
        return data


@dataclass
class BenchmarkRow:
    spec: RowSpec
    national: Cell
    published_pct: float | None
    trusts: dict[str, TrustCell]
    funnel: dict[str, Any]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"item": self.spec.item}
        if self.spec.option is not None:
            data["option"] = self.spec.option
        data |= {
            "measure": self.spec.measure,
            "label": self.spec.label,
            "denominator_rule": self.spec.denominator_rule,
            "national": self.national.to_json(),
            "published_national_pct": self.published_pct,
            "trusts": {t: c.to_json() for t, c in self.trusts.items()},
            "funnel": self.funnel,
        }
        return data


@dataclass
class BenchmarkTable:
    id: str
    title: str
    rows: list[BenchmarkRow]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "rows": [r.to_json() for r in self.rows]}


@dataclass
class Benchmarks:
    wave: str
    instrument: str
    generated_at: str
    suppression_threshold: int
    trusts: dict[str, int | None]  # respondents, None when withheld
    tables: list[BenchmarkTable]
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "wave": self.wave,
            "instrument": self.instrument,
            "generated_at": self.generated_at,
            "suppression_threshold": self.suppression_threshold,
            "levels": list(LEVELS),
            "trusts": [{"id": t, "respondents": n} for t, n in self.trusts.items()],
            "tables": [t.to_json() for t in self.tables],
            "notes": self.notes,
        }


def benchmark(
    data: WaveData, threshold: int | None = None, weights: WaveWeights | None = None
) -> Benchmarks:
    """Every trust of the wave on every row of every table.

    With `weights`, each trust's cell and the rest carry weighted figures and the
    comparison with the rest is weighted (`analysis.weights.versus`); the funnel stays on
    the unweighted counts.
    """
    threshold = data.suppression_threshold if threshold is None else threshold
    instrument = data.instrument
    split = grouping(instrument, "trust", data.frame)
    per_table = [(t, table_rows(instrument, t)) for t in instrument.tables]
    specs = [s for _, rows in per_table for s in rows]
    wc = None
    if weights is not None and weights.kind != "none":
        from sharedground.analysis.weights.tabulate import weighted_count

        wc = weighted_count(data.frame, specs, split.expr, split.keys, weights)
        counts = wc.counts(split.keys)
    else:
        counts = count(data.frame, specs, split.expr, split.keys)
    reference = published.reference("2015") if instrument.id == "dmr-2015" else {}

    tables: list[BenchmarkTable] = []
    position = 0
    for table, rows in per_table:
        built: list[BenchmarkRow] = []
        seen: dict[tuple[str, str | None], int] = {}
        for spec in rows:
            i = position
            position += 1
            pair = (spec.item, spec.option)
            occurrence = seen.get(pair, 0)
            seen[pair] = occurrence + 1
            figures = reference.get((table.id, spec.item, spec.option, occurrence))
            published_pct = figures[published.OVERALL].pct if figures else None
            row = _row(
                spec, counts.counted[i], counts.valid[i], split.ids, threshold, published_pct
            )
            if wc is not None:
                _weigh(row, wc, i, split.ids)
            built.append(row)
        tables.append(BenchmarkTable(table.id, table.title, built))

    sizes, _ = suppress(counts.respondents, counts.overall_respondents, threshold)
    trusts = {
        t: (None if sizes[j] else int(counts.respondents[j])) for j, t in enumerate(split.ids)
    }
    notes = [
        "versus_rest: the trust against everyone else in the wave (two-proportion test; "
        "flag above/below when p < 0.05).",
        "funnel: where the trust sits among this wave's control limits (95% and 99.8%) "
        "around the national proportion, for its denominator; versus_published does the "
        "same around the published 2015 national figure.",
        f"Trusts with fewer than {threshold} valid answers on a row are withheld, with enough "
        "others that subtraction from the national figure cannot recover them.",
    ]
    if wc is not None:
        assert weights is not None
        notes.append(
            f"Weighted ({weights.kind}): trusts' and the rest's percentages weighted; "
            "versus_rest is a Wald test of the weighted difference with its linearised "
            "variance (strata = role), as R's svycontrast on svyby(covmat = TRUE); the funnel "
            "limits use the unweighted counts."
        )
    if counts.ungrouped:
        notes.append(
            f"{counts.ungrouped} respondent(s) have no trust; national figures include them."
        )
    return Benchmarks(
        data.name,
        instrument.key,
        dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat(),
        threshold,
        trusts,
        tables,
        notes,
    )


def _weigh(row: BenchmarkRow, wc: WeightedCounts, i: int, trusts: list[str]) -> None:
    """Put weighted figures and the weighted comparison into a row's shown cells."""
    from sharedground.analysis.weights.cells import weighted_figure
    from sharedground.analysis.weights.versus import versus_rest

    versus = versus_rest(wc, i)
    for j, trust in enumerate(trusts):
        old = row.trusts[trust]
        if old.cell.suppressed:
            continue
        cell = replace(old.cell, weighted=weighted_figure(versus.group, (j,)))
        against = None
        if old.versus_rest is not None:
            p = float(versus.p_value[j])
            against = VersusRest(
                replace(old.versus_rest.rest, weighted=weighted_figure(versus.rest, (j,))),
                float(versus.diff[j]),
                float(versus.ci_low[j]),
                float(versus.ci_high[j]),
                None if math.isnan(p) else p,
                "wald",
            )
        row.trusts[trust] = replace(old, cell=cell, versus_rest=against)


def _row(
    spec: RowSpec,
    counted: np.ndarray[Any, np.dtype[np.int64]],
    valid: np.ndarray[Any, np.dtype[np.int64]],
    trusts: list[str],
    threshold: int,
    published_pct: float | None,
) -> BenchmarkRow:
    total_count, total_valid = int(counted.sum()), int(valid.sum())
    withheld, national_withheld = suppress(valid, total_valid, threshold, counted)
    national = Cell.withheld() if national_withheld else Cell(total_count, total_valid)
    p0 = total_count / total_valid if total_valid else None
    shown_n = sorted({int(v) for j, v in enumerate(valid) if not withheld[j] and v > 0})
    wave_p0 = p0 if p0 is not None and not national_withheld else None
    published_p0 = None if published_pct is None else published_pct / 100.0
    wave_bands = _bands(counted, valid, wave_p0)
    published_bands = _bands(counted, valid, published_p0)
    cells: dict[str, TrustCell] = {}
    for j, trust in enumerate(trusts):
        if withheld[j]:
            cells[trust] = TrustCell(Cell.withheld(), None, None, None)
            continue
        c, v = int(counted[j]), int(valid[j])
        versus = None
        rest_c, rest_v = total_count - c, total_valid - v
        if not national_withheld and v > 0 and rest_v > 0:
            diff, low, high, p_value = two_proportions(c, v, rest_c, rest_v)
            versus = VersusRest(Cell(rest_c, rest_v), diff, low, high, p_value)
        cells[trust] = TrustCell(Cell(c, v), versus, wave_bands[j], published_bands[j])
    funnel: dict[str, Any] = {"p0_pct": None if p0 is None else 100 * p0, "limits": []}
    if p0 is not None and not national_withheld and shown_n:
        grid = _grid(shown_n)
        table = _limits(p0, grid)
        funnel["limits"] = [{"n": n, **{k: 100 * v for k, v in table[n].items()}} for n in grid]
    return BenchmarkRow(spec, national, published_pct, cells, funnel)


def _grid(denominators: list[int]) -> list[int]:
    """Denominators to tabulate the limits at: a spread from 1 to the largest, and each one."""
    top = max(denominators)
    spread = np.unique(np.geomspace(1, top, num=_GRID_POINTS).round().astype(int))
    return sorted({*(int(n) for n in spread), *denominators})


def _limits(p0: float, denominators: list[int]) -> dict[int, dict[str, float]]:
    """Lower and upper limits (proportions) at each level, per denominator."""
    if not denominators:
        return {}
    out: dict[int, dict[str, float]] = {n: {} for n in denominators}
    limits = stats.funnel_limits(p0, np.asarray(denominators, dtype=np.int64), LEVELS)
    for level, (lower, upper) in limits.items():
        tag = "95" if level == 0.95 else "998"
        for k, n in enumerate(denominators):
            out[n][f"lower_{tag}"] = float(lower[k])
            out[n][f"upper_{tag}"] = float(upper[k])
    return out


def _bands(
    counted: np.ndarray[Any, np.dtype[np.int64]],
    valid: np.ndarray[Any, np.dtype[np.int64]],
    p0: float | None,
) -> list[str | None]:
    """Per trust: above_998 | above_95 | within | below_95 | below_998 (None without p0).

    Judged by the exact binomial tail of the trust's count around `p0`: above_95 when
    P(R >= count) < 2.5%, above_998 when it is < 0.1% (below likewise with P(R <= count)).
    The tabulated limits are interpolated between counts, as funnel plots draw them (a
    smooth line); at small denominators a count can sit just outside the drawn line
    without its tail being that small, so the band never comes from the line.
    """
    if p0 is None:
        return [None] * len(valid)
    from scipy.stats import binom

    upper = binom.sf(counted - 1, valid, p0)
    lower = binom.cdf(counted, valid, p0)
    bands: list[str | None] = []
    for up, low, n in zip(upper, lower, valid, strict=True):
        band: str | None = "within"
        for level, tag in ((LEVELS[0], "95"), (LEVELS[1], "998")):
            tail = (1 - level) / 2
            if up < tail:
                band = f"above_{tag}"
            elif low < tail:
                band = f"below_{tag}"
        bands.append(band if n > 0 else None)
    return bands
