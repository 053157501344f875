"""The analysis output as data, and its stable JSON form (see `schema.json`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sharedground.analysis.rows import DENOMINATORS, RowSpec


def half_up(value: float) -> int:
    """Round to the nearest integer, halves up, as printed tables do (Python rounds to even)."""
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


@dataclass(frozen=True)
class Weighted:
    """A weighted percentage with its linearised SE and 95% intervals (all in points)."""

    pct: float | None
    se: float | None
    ci_logit: tuple[float, float] | None
    ci_beta: tuple[float, float] | None
    weighted_count: float
    weighted_valid: float

    def to_json(self) -> dict[str, Any]:
        return {
            "pct": self.pct,
            "se": self.se,
            "ci_logit": None if self.ci_logit is None else list(self.ci_logit),
            "ci_beta": None if self.ci_beta is None else list(self.ci_beta),
            "weighted_count": self.weighted_count,
            "weighted_valid": self.weighted_valid,
        }


@dataclass(frozen=True)
class Cell:
    """One group's figure on one row: how many were counted, out of how many valid answers.

    With weights, `weighted` holds the weighted figure; count and valid stay unweighted.
    """

    count: int | None
    valid: int | None
    suppressed: bool = False
    weighted: Weighted | None = None

    @property
    def pct(self) -> float | None:
        """The percentage, unrounded; None when withheld or when nobody answered."""
        if self.count is None or not self.valid:
            return None
        return 100.0 * self.count / self.valid

    @classmethod
    def withheld(cls) -> Cell:
        return cls(None, None, suppressed=True)

    def to_json(self) -> dict[str, Any]:
        pct = self.pct
        data: dict[str, Any] = {
            "count": self.count,
            "valid": self.valid,
            "pct": None if pct is None else pct,
        }
        if self.suppressed:
            data["suppressed"] = True
        if self.weighted is not None:
            data["weighted"] = self.weighted.to_json()
        return data


@dataclass(frozen=True)
class TestOutcome:
    """The test of equality across groups on one row (r groups x counted / not counted)."""

    name: str  # "chi2", "fisher", "rao-scott-F", "rao-scott-Chisq", "rao-scott-Wald" or "none"
    statistic: float | None
    df: int | None
    p_value: float | None
    stars: str | None
    groups: int
    reason: str | None = None
    #: Rao-Scott only: numerator and denominator degrees of freedom (fractional for F).
    ndf: float | None = None
    ddf: float | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "statistic": self.statistic,
            "df": self.df,
            "p_value": self.p_value,
            "stars": self.stars,
            "groups": self.groups,
        }
        if self.reason:
            data["reason"] = self.reason
        if self.ndf is not None:
            data["ndf"] = self.ndf
            data["ddf"] = self.ddf
        return data


@dataclass
class RowResult:
    """A computed row of a table."""

    spec: RowSpec
    groups: dict[str, Cell]
    overall: Cell
    test: TestOutcome
    q_value: float | None = None
    #: Grid rows only: the overall count over everyone, as the 2015 report's Overall column.
    overall_all_respondents: Cell | None = None
    notes: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"item": self.spec.item}
        if self.spec.option is not None:
            data["option"] = self.spec.option
        data |= {
            "measure": self.spec.measure,
            "label": self.spec.label,
            "denominator_rule": self.spec.denominator_rule,
            "groups": {g: c.to_json() for g, c in self.groups.items()},
            "overall": self.overall.to_json(),
            "test": self.test.to_json(),
        }
        if self.spec.reverse:
            data["reverse_scored"] = True
        if self.q_value is not None:
            data["q_value"] = self.q_value
        if self.overall_all_respondents is not None:
            data["overall_all_respondents"] = self.overall_all_respondents.to_json()
        if self.notes:
            data["notes"] = list(self.notes)
        return data


@dataclass
class TableResult:
    id: str
    title: str
    rows: list[RowResult]

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "rows": [r.to_json() for r in self.rows]}


@dataclass(frozen=True)
class GroupInfo:
    """A column of the tables: the group's id, its label and how many responded."""

    id: str
    label: str
    respondents: int | None  # None when withheld

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "label": self.label, "respondents": self.respondents}


@dataclass(frozen=True)
class SummaryLine:
    table: str
    item: str
    label: str
    pct: float


@dataclass
class Summary:
    """A list the report draws from the tables (its boxes 2.1-2.3), computed by rule."""

    id: str
    title: str
    rule: str
    threshold: float
    lines: list[SummaryLine]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "rule": self.rule,
            "threshold": self.threshold,
            "rows": [
                {"table": s.table, "item": s.item, "label": s.label, "pct": s.pct}
                for s in self.lines
            ],
        }


@dataclass
class Analysis:
    """Every table of a wave, grouped one way."""

    wave: str
    instrument: str
    generated_at: str
    by: str
    groups: list[GroupInfo]
    respondents: int
    ungrouped: int
    suppression_threshold: int
    adjust: str | None
    tables: list[TableResult]
    summaries: list[Summary]
    notes: list[str] = field(default_factory=list)
    #: How the tables were weighted (None: unweighted, as the published report).
    weighting: dict[str, Any] | None = None

    def table(self, table_id: str) -> TableResult:
        for table in self.tables:
            if table.id == table_id:
                return table
        raise KeyError(f"no table {table_id!r} in this analysis")

    def to_json(self) -> dict[str, Any]:
        used = {r.spec.denominator_rule for t in self.tables for r in t.rows}
        if any(r.overall_all_respondents for t in self.tables for r in t.rows):
            used.add("all_respondents")
        return {
            "wave": self.wave,
            "instrument": self.instrument,
            "generated_at": self.generated_at,
            "by": self.by,
            "groups": [g.to_json() for g in self.groups],
            "respondents": self.respondents,
            "ungrouped": self.ungrouped,
            "suppression_threshold": self.suppression_threshold,
            "adjust": self.adjust,
            "denominators": {k: v for k, v in DENOMINATORS.items() if k in used},
            "tables": [t.to_json() for t in self.tables],
            "summaries": [s.to_json() for s in self.summaries],
            "notes": list(self.notes),
        } | ({"weighting": self.weighting} if self.weighting is not None else {})
