"""A wave against an earlier one: each row's percentage now and then, per group and overall.

The earlier wave is either published (2002 or 2015, `sharedground.analysis.published`) or
another stored wave. For each cell: both percentages with their counts and denominators,
the difference in percentage points with its 95% confidence interval (Newcombe's hybrid
score interval) and the two-proportion test, from `sharedground.stats`. Cells whose earlier
count had to be rebuilt from a rounded percentage are flagged `approximate`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sharedground.analysis import published
from sharedground.analysis.results import Analysis, Cell, half_up
from sharedground.analysis.significance import stars, two_proportions
from sharedground.analysis.source import WaveData
from sharedground.analysis.tables import Options, analyse

if TYPE_CHECKING:
    from sharedground.analysis.disclosure.attributes import AttributeView, TrustMarginView
    from sharedground.analysis.disclosure.decide import DisclosureView

    Withholding = DisclosureView | AttributeView | TrustMarginView
    from sharedground.analysis.weights.weighting import WaveWeights

OVERALL = published.OVERALL


@dataclass(frozen=True)
class Side:
    """One wave's figure in a trend cell."""

    count: int
    valid: int
    approximate: bool = False
    basis: str | None = None
    #: With weights: the weighted percentage and its standard error (points); count and
    #: valid stay unweighted. An unweighted side of a weighted trend has `se` only.
    weighted_pct: float | None = None
    se: float | None = None

    @property
    def pct(self) -> float:
        if self.weighted_pct is not None:
            return self.weighted_pct
        return 100.0 * self.count / self.valid

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "count": self.count,
            "valid": self.valid,
            "pct": self.pct,
        }
        if self.approximate:
            data["approximate"] = True
        if self.basis:
            data["basis"] = self.basis
        if self.weighted_pct is not None:
            data["weighted"] = True
        if self.se is not None:
            data["se"] = self.se
        return data


@dataclass(frozen=True)
class Change:
    """Now against then: the difference in points, its 95% CI and the test."""

    now: Side
    then: Side
    diff: float
    ci_low: float
    ci_high: float
    #: None when no test is possible (everyone gave the same answer, then and now).
    p_value: float | None
    #: "newcombe" (unweighted) or "wald" (weighted: independent samples, SEs added).
    method: str = "newcombe"

    @property
    def approximate(self) -> bool:
        return self.now.approximate or self.then.approximate

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 0.05

    def to_json(self) -> dict[str, Any]:
        return {
            "now": self.now.to_json(),
            "then": self.then.to_json(),
            "diff_points": self.diff,
            "ci95": [self.ci_low, self.ci_high],
            "p_value": self.p_value,
            "stars": stars(self.p_value),
            "approximate": self.approximate,
        } | ({"method": self.method} if self.method != "newcombe" else {})


@dataclass
class TrendRow:
    table: str
    item: str
    option: str | None
    measure: str
    label: str
    denominator_rule: str
    #: Group (or "overall") -> the change, or None where either side has no figure.
    cells: dict[str, Change | None]

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"table": self.table, "item": self.item}
        if self.option is not None:
            data["option"] = self.option
        data |= {
            "measure": self.measure,
            "label": self.label,
            "denominator_rule": self.denominator_rule,
            "groups": {g: (c.to_json() if c else None) for g, c in self.cells.items()},
        }
        return data


@dataclass
class Trend:
    wave: str
    against: str
    against_kind: str  # "published" or "wave"
    generated_at: str
    groups: list[str]
    rows: list[TrendRow]
    notes: list[str] = field(default_factory=list)

    def row(self, item: str, measure: str | None = None, option: str | None = None) -> TrendRow:
        for row in self.rows:
            if row.item == item and row.option == option and measure in (None, row.measure):
                return row
        raise KeyError(f"no trend row for {item!r}")

    def to_json(self) -> dict[str, Any]:
        return {
            "wave": self.wave,
            "against": self.against,
            "against_kind": self.against_kind,
            "generated_at": self.generated_at,
            "groups": self.groups,
            "rows": [r.to_json() for r in self.rows],
            "notes": self.notes,
        }


def against_published(
    now: WaveData, year: str, threshold: int | None = None, weights: WaveWeights | None = None
) -> Trend:
    """The wave (by role) against the published 2002 or 2015 figures."""
    current = analyse(now, Options(by="role", suppression_threshold=threshold), weights)
    figures = published.reference(year)
    rows: list[TrendRow] = []
    for table in current.tables:
        seen: dict[tuple[str, str | None], int] = {}
        for row in table.rows:
            pair = (row.spec.item, row.spec.option)
            occurrence = seen.get(pair, 0)
            seen[pair] = occurrence + 1
            then = figures.get((table.id, row.spec.item, row.spec.option, occurrence))
            if not then:
                continue
            cells: dict[str, Change | None] = {}
            for group, cell in [*row.groups.items(), (OVERALL, row.overall)]:
                old = then.get(group)
                side = (
                    None if old is None else Side(old.count, old.valid, old.approximate, old.basis)
                )
                cells[group] = _change(cell, side)
            rows.append(_row(table.id, row, cells))
    notes = [
        f"Earlier figures: {published.source(year)}.",
        "approximate: the earlier count was rebuilt from a rounded percentage and the group "
        "size, so its difference, interval and p-value are approximate too.",
    ]
    if year == "2002":
        notes.append(
            "2002 denominators are the group sizes (103 / 168 / 376 / 445; 1,092 overall) "
            "except where the 2003 paper gives the exact fraction."
        )
    return Trend(
        now.name,
        year,
        "published",
        _now(),
        [g.id for g in current.groups],
        rows,
        notes + current.notes + _weighted_notes(weights),
    )


def against_wave(
    now: WaveData,
    then: WaveData,
    by: str = "role",
    threshold: int | None = None,
    current: Analysis | None = None,
    weights: WaveWeights | None = None,
    weights_then: WaveWeights | None = None,
    disclosure: Withholding | None = None,
    then_disclosure: Withholding | None = None,
) -> Trend:
    """The wave against another stored wave, rows matched on (table, item, option, measure).

    With `weights` (and `weights_then`), each side is its weighted percentage and the
    change a Wald interval and test with the two waves' linearised variances added
    (independent samples), what R's svycontrast gives on the two waves as strata.

    `current` is `now`'s analysis with the same `by` and `threshold`, when the caller has
    it already (a trust report analyses its trust first), so that it is not made twice.

    `disclosure` and `then_disclosure` are each wave's own disclosure decision as the
    analysis reads it (a trust of the wave by role, or the national table by `by`): each
    side's figures are then withheld where that wave's outputs withheld them, not only where
    they are small on their own. Without them, a cell a wave withheld to protect another
    (secondary suppression) would print here, and that wave's other outputs would give the
    small one back by subtraction.
    """
    options = Options(by=by, suppression_threshold=threshold)
    current = current or analyse(now, dataclasses.replace(options, disclosure=disclosure), weights)
    earlier = analyse(then, dataclasses.replace(options, disclosure=then_disclosure), weights_then)
    index = _index(earlier)
    rows: list[TrendRow] = []
    for table in current.tables:
        for row in table.rows:
            old = index.get((table.id, row.spec.item, row.spec.option, row.spec.measure))
            if old is None:
                continue
            cells: dict[str, Change | None] = {}
            for group, cell in [*row.groups.items(), (OVERALL, row.overall)]:
                prior = old.overall if group == OVERALL else old.groups.get(group)
                side = None
                if prior is not None and prior.count is not None and prior.valid:
                    w = prior.weighted
                    side = Side(
                        prior.count,
                        prior.valid,
                        weighted_pct=None if w is None else w.pct,
                        se=None if w is None else w.se,
                    )
                cells[group] = _change(cell, side)
            rows.append(_row(table.id, row, cells))
    notes = [f"Earlier figures: stored wave {then.name!r} ({then.instrument.key})."]
    return Trend(
        now.name,
        then.name,
        "wave",
        _now(),
        [g.id for g in current.groups],
        rows,
        notes + current.notes + _weighted_notes(weights),
    )


def _weighted_notes(weights: WaveWeights | None) -> list[str]:
    if weights is None or weights.kind == "none":
        return []
    return [
        f"Weighted ({weights.kind}): each change is the weighted percentage now minus then, "
        "with a Wald 95% interval and test from the two sides' standard errors added "
        "(independent samples; a published or unweighted side has its binomial SE)."
    ]


def _index(analysis: Analysis) -> dict[tuple[str, str, str | None, str], Any]:
    return {
        (t.id, r.spec.item, r.spec.option, r.spec.measure): r
        for t in analysis.tables
        for r in t.rows
    }


def _row(table_id: str, row: Any, cells: dict[str, Change | None]) -> TrendRow:
    spec = row.spec
    return TrendRow(
        table_id, spec.item, spec.option, spec.measure, spec.label, spec.denominator_rule, cells
    )


def _change(cell: Cell, then: Side | None) -> Change | None:
    if then is None or cell.count is None or not cell.valid or not then.valid:
        return None  # withheld now, or no earlier figure
    if cell.weighted is not None and cell.weighted.pct is not None:
        return _weighted_change(cell, then)
    now = Side(cell.count, cell.valid)
    diff, low, high, p_value = two_proportions(now.count, now.valid, then.count, then.valid)
    return Change(now, then, diff, low, high, p_value)


def _weighted_change(cell: Cell, then: Side) -> Change | None:
    """Weighted now against then: Wald, variances added (then's binomial if unweighted)."""
    from scipy import stats as sps

    w = cell.weighted
    assert w is not None and w.pct is not None and cell.count is not None and cell.valid
    if then.se is None:  # a published or unweighted figure: its binomial SE
        p = then.count / then.valid
        then = Side(
            then.count,
            then.valid,
            then.approximate,
            then.basis,
            se=100.0 * (p * (1 - p) / then.valid) ** 0.5,
        )
    now = Side(cell.count, cell.valid, weighted_pct=w.pct, se=w.se)
    diff = now.pct - then.pct
    se = ((now.se or 0.0) ** 2 + (then.se or 0.0) ** 2) ** 0.5
    if se == 0:
        return Change(now, then, diff, diff, diff, None, "wald")
    z = float(sps.norm.ppf(0.975))
    p_value = float(2 * sps.norm.sf(abs(diff) / se))
    return Change(now, then, diff, diff - z * se, diff + z * se, p_value, "wald")


def _now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()


def describe(change: Change | None) -> str:
    """`44% → 64% (+20, 95% CI 10 to 29) ***` for the terminal."""
    if change is None:
        return "-"
    diff, low, high = (half_up(v) for v in (change.diff, change.ci_low, change.ci_high))
    text = (
        f"{half_up(change.then.pct)}% → {half_up(change.now.pct)}% "
        f"({diff:+d}, {low} to {high}) {stars(change.p_value) or 'no test'}"
    )
    return text + (" ≈" if change.approximate else "")
