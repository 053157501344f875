"""What a report is made from: plain data, gathered by `report.build` or given by tests.

The analysis engine's document (`analysis`) is the source of every table. Everything else
(Likert distributions for the charts, comparisons, funnels, fieldwork facts, comments) is
gathered beside it so that composing and rendering need no database.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sharedground.instrument import Instrument

#: Key of the all-groups column in group-keyed mappings.
OVERALL = "overall"


def whole(value: float) -> int:
    """Round to a whole number, halves away from zero, as printed tables do.

    (Python's own rounding sends halves to the even neighbour: 62.5 would print as 62.)
    """
    return int(value + 0.5) if value >= 0 else -int(-value + 0.5)


def signed(value: float, digits: int = 0) -> str:
    """+5, −3 (a true minus sign) or 0, rounded as `whole` does."""
    scaled = whole(value * 10**digits) / 10**digits
    text = f"{abs(scaled):.{digits}f}"
    if scaled == 0:
        return text
    return ("+" if scaled > 0 else "−") + text


@dataclass(frozen=True)
class Group:
    """A role group as a column of the report."""

    id: str
    label: str
    respondents: int
    shown: bool = True


@dataclass(frozen=True)
class TrendPoint:
    """One group's (or everyone's) figure now and in the comparison wave."""

    now: float | None
    then: float | None
    diff: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    #: The earlier count was rebuilt from a rounded published percentage.
    approximate: bool = False

    @property
    def significant(self) -> bool:
        return self.p_value is not None and self.p_value < 0.05


@dataclass(frozen=True)
class TrendRow:
    """A table row compared with the comparison wave, per group and overall (`OVERALL`)."""

    table_id: str
    item: str
    option: str | None
    label: str
    points: dict[str, TrendPoint]


#: Values of `Comparison.scope`.
SAME, NATIONAL_CONTEXT = "same", "national context"


@dataclass(frozen=True)
class Comparison:
    """The comparison wave (2002, 2015 or another stored wave) and the matched rows.

    `scope` says whose earlier figures these are: SAME, the report's own population (the
    whole wave, or the trust in the earlier wave), so a difference is a change; or
    NATIONAL_CONTEXT, national published figures set beside a trust's (published figures
    exist only nationally), so a difference is context, not change.
    """

    label: str
    rows: list[TrendRow]
    source: str = ""
    scope: str = SAME
    #: Groups compared (None: every group the report shows). A trust's change is shown
    #: only for groups with enough respondents in both waves.
    groups: tuple[str, ...] | None = None
    #: Why nothing can be compared (the earlier wave has no responses from the trust).
    unavailable: str = ""


@dataclass(frozen=True)
class FunnelPoint:
    trust: str
    count: int
    valid: int
    #: The analysis engine's verdict: above_998, above_95, within, below_95 or below_998.
    band: str | None = None

    @property
    def pct(self) -> float:
        return 100.0 * self.count / self.valid


@dataclass(frozen=True)
class Funnel:
    """Trusts' proportions on one key row, with the national proportion they are judged by."""

    table_id: str
    item: str
    label: str
    national_pct: float
    points: list[FunnelPoint]
    highlight: str | None = None
    #: Control limits as tabulated by the analysis engine: (n, lower 95%, upper 95%,
    #: lower 99.8%, upper 99.8%) in per cent; empty means the normal approximation.
    limits: list[tuple[int, float, float, float, float]] = field(default_factory=list)


@dataclass(frozen=True)
class Comment:
    """One free-text answer, already anonymised, attributed only by role group."""

    section_id: str
    group: str
    text: str


@dataclass(frozen=True)
class CommentSection:
    id: str
    title: str
    question: str
    comments: list[Comment]
    total: int
    #: Responses the comments were drawn from, when a large wave was sampled.
    sampled_from: int | None = None


@dataclass
class Fieldwork:
    """Facts about how the wave was run; None means not recorded."""

    opens: dt.date | None = None
    closes: dt.date | None = None
    contacts: int | None = None
    invitations: int | None = None
    invitations_by_group: dict[str, int] | None = None
    reminders: str | None = None
    postal_sample: str | None = None
    responses_by_group: dict[str, int] = field(default_factory=dict)
    #: None: withheld (the wave's decision: a small mode's count would give a cell away).
    responses_by_mode: dict[str, int | None] = field(default_factory=dict)
    rate_by_group: dict[str, float] | None = None
    rate_by_mode: dict[str, float] | None = None
    rate_overall: float | None = None
    source_note: str | None = None
    #: How the fieldwork dates were found, when not from the wave's own record.
    dates_note: str | None = None
    #: Responses whose comments were read, when only a sample was.
    comments_sample: int | None = None
    #: Which responses the wave's final figures include (`analysis.disclosure.final`).
    release_note: str | None = None


@dataclass(frozen=True)
class Initiatives:
    """What a report prints from the initiative register (`initiatives.reporting`).

    `trust`: the trust's initiatives (trust reports); `kinds`: trusts running each kind
    beside table 2.11 (the national report). Withheld counts are None.
    """

    threshold: int
    trust: list[Any] = field(default_factory=list)
    kinds: list[Any] = field(default_factory=list)
    trusts_in_register: int = 0
    #: Paired tests of each of `trust`'s initiatives (same order; `evaluation.register`).
    tests: list[list[dict[str, str]]] = field(default_factory=list)
    caveat: str = ""


@dataclass
class ReportInput:
    """Everything one report is made from.

    Attributes:
        instrument: the questionnaire of the wave.
        wave: the wave's name.
        analysis: the analysis document for the report's population (the wave or a trust).
        groups: the role groups in column order; `shown` is False for suppressed groups.
        threshold: the suppression threshold (cells with fewer answers are not shown).
        distributions: item -> group (or OVERALL) -> Likert value -> count, for the charts.
        comparison: the trend against another wave, if asked for.
        funnels: per-trust proportions for the key ratings.
        fieldwork: the methods facts.
        comments: free-text comments by section.
        trust: code of the trust a trust report is for (None for the national report).
        trust_name: its name, if recorded.
        benchmarks: extra columns for trust reports: label -> analysis document (percentages
            only are printed from these).
    """

    instrument: Instrument
    wave: str
    analysis: dict[str, Any]
    groups: list[Group]
    threshold: int = 5
    distributions: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)
    comparison: Comparison | None = None
    funnels: list[Funnel] = field(default_factory=list)
    fieldwork: Fieldwork = field(default_factory=Fieldwork)
    comments: list[CommentSection] = field(default_factory=list)
    trust: str | None = None
    trust_name: str | None = None
    benchmarks: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: The initiative register's section (None: nothing registered).
    initiatives: Initiatives | None = None
    #: "What respondents said" (`sharedground.text.said.Said`): themes by role group and
    #: quotations from the team's coding; None when nothing has been coded.
    said: Any = None

    @property
    def shown_groups(self) -> list[Group]:
        return [g for g in self.groups if g.shown]
