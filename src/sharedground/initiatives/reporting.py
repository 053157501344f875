"""What the reports print about the register, as plain data (no database in the report).

A trust report gains "Your initiatives": what runs, since when, its stage and progress
score, how many doctors and managers take part, and the pulse's before/after figures
(withheld below the threshold, by `pulse.results`). The national report gains "Initiatives
in the register": how many trusts run each kind, beside the share of respondents who said
in table 2.11 that their organisation has it. A count of trusts from 1 to threshold - 1 is
withheld like any small cell.

A trust report is handed to the trust, and its lead can make it again after any answer, so
every figure of "Your initiatives" made from answers reads them in whole batches of the
threshold (issue #15, item 1), whoever makes the report: the before/after table and the
participants' tests read the pairs of the initiative page's lead view (`pulse.results(...,
in_batches=True)`), the colleagues' tests their own pairs so, the difference of the two
changes both, and the monthly chart each month's answers so. The section says how many
pairs it reads of how many. The research team's every-pair figures are the initiative page
(as an administrator) and `sharedground evaluate --initiative`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharedground.initiatives import participants, pulse, register
from sharedground.initiatives.kinds import BUILTIN, TABLE_2_11
from sharedground.initiatives.models import Initiative
from sharedground.store import Organisation, Store

#: Stages that count as "runs" for the national figures.
ACTIVE = ("running", "paused")


@dataclass(frozen=True)
class TrustInitiative:
    """One initiative as a trust report prints it."""

    title: str
    kind: str
    stage: str
    since: str | None
    progress: float | None
    doctors: int
    managers: int
    #: (timepoint, answered) of the pulse, in order.
    responded: tuple[tuple[str, int], ...] = ()
    cohort: int = 0
    lost_after: int | None = None
    #: (question, paired, before, after, change); the last three None when withheld.
    changes: tuple[tuple[str, int, float | None, float | None, float | None], ...] = ()
    threshold: int = 5
    #: The pairs (before and after) the figures read, in whole batches of the threshold, and
    #: the pairs there are (None without an after timepoint).
    pairs_read: int | None = None
    pairs: int | None = None
    #: The evaluation's before/after tests (participants against the trust's non-participants)
    #: as `_initiative.html` prints them; None without both a before and an after answer.
    evaluation: dict[str, Any] | None = None


@dataclass(frozen=True)
class KindRow:
    kind: str
    label: str
    trusts: int | None  # None: withheld (fewer than the threshold, but some)
    said_yes_pct: float | None  # respondents saying it exists (table 2.11), None if not asked


@dataclass
class RegisterSummary:
    """Everything the reports print about the register.

    A trust's part (its initiatives with their cohorts and pulse figures) is read when a
    trust report first asks for it, not for every trust up front: a national report needs
    none of it, and 200 trusts' pulse figures take seconds.
    """

    store: Store | None = None
    trusts: dict[str, list[register.Entry]] = field(default_factory=dict)
    kinds: list[KindRow] = field(default_factory=list)
    _read: dict[str, list[TrustInitiative]] = field(default_factory=dict)

    @property
    def empty(self) -> bool:
        return not self.trusts

    @property
    def trusts_in_register(self) -> int:
        return len(self.trusts)

    def for_trust(self, trust: str) -> list[TrustInitiative]:
        """The trust's initiatives as its report prints them ([] when it has none)."""
        if trust not in self.trusts or self.store is None:
            return []
        if trust not in self._read:
            with self.store.session() as session:
                self._read[trust] = _trust_entries(session, self.trusts[trust])
        return self._read[trust]


def _trust_entries(session: Session, entries: list[register.Entry]) -> list[TrustInitiative]:
    found = []
    labels = {i.id: i.text for i in pulse.instrument().items()}
    ids = {e.id: e for e in entries}
    for ident, e in ids.items():
        counts = participants.counts(session, ident)
        # Whole batches of pairs: see the module's docstring.
        results = pulse.results(session, ident, in_batches=True)
        changes = tuple(
            (labels.get(c.item, c.item), c.paired, c.before, c.after, c.change)
            for c in results.changes.get("after", [])
        )
        since = e.actual_start or e.planned_start
        tests = (
            _tests(session, ident, results.threshold)
            if results.responded.get("before") and results.responded.get("after")
            else None
        )
        found.append(
            TrustInitiative(
                title=e.title,
                kind=e.kind_label,
                stage=e.stage,
                since=since.isoformat() if since else None,
                progress=e.progress,
                doctors=counts["doctor"],
                managers=counts["manager"],
                responded=tuple(results.responded.items()),
                cohort=results.cohort,
                lost_after=results.lost_after,
                changes=changes,
                threshold=results.threshold,
                pairs_read=results.pairs_shown.get("after"),
                pairs=results.pairs.get("after"),
                evaluation=tests,
            )
        )
    return found


def _tests(session: Session, ident: int, threshold: int) -> dict[str, Any] | None:
    """The trust's non-participants' before/after tests and the difference from the
    participants' change (none from fewer pairs than the pulse's threshold), and the SPC chart
    of its monthly pulse, as the `init` of `_initiative.html` (headed at level 4); None when
    the initiative has neither."""
    import polars as pl

    from sharedground.evaluation import summary
    from sharedground.evaluation.beforeafter import CAVEAT
    from sharedground.evaluation.paired import MIN_PAIRS
    from sharedground.evaluation.store import monthly_series, pulse_in_batches
    from sharedground.report.evaluation_page import initiative_context

    # Whole batches of pairs, and of each month's answers: see the module's docstring.
    answers, counts = pulse_in_batches(session, ident)
    monthly = monthly_series(session, ident, in_batches=True)
    if not any(c.read or c.unread for c in counts.values()) and monthly is None:
        return None
    tables = summary.Tables(pl.DataFrame(), pl.DataFrame(), answers, monthly)
    if answers.filter(pl.col("participant")).is_empty():
        # No whole batch of the participants' pairs yet: nothing to set the colleagues'
        # change beside, but the monthly chart.
        doc = {"initiative": {"initiative_id": ident, "before_after": [], "caveat": CAVEAT}}
    else:
        doc = summary.evaluate(tables, initiative=ident, min_pairs=max(MIN_PAIRS, threshold))
    context = initiative_context(doc, tables)
    # The participants' own tests are in the table above (`evaluation.register.paired_rows`):
    # here only what that table has not, the colleagues' change and the monthly chart.
    others = [
        {**t, "lost": t["lost"] + counts[False].unread}
        for t in context["tests"]
        if t["group"] != "participants"
    ]
    if not others and not context["charts"]:
        return None
    heading = "Beside colleagues who did not take part, and month by month"
    theirs = counts[False]
    note = (
        f"Colleagues' figures are from the first {theirs.read} of the {theirs.pairs} who "
        "answered both times, in the order their after answers arrived, and lost to "
        "follow-up counts who answered before and is not among them: pairs join in whole "
        f"batches of {threshold}. The monthly chart counts each month's answers in whole "
        "batches too."
        if others
        else ""
    )
    return {**context, "tests": others, "level": 4, "heading": heading, "note": note}


def summarise(
    store: Store, threshold: int, national: dict[str, Any] | None = None
) -> RegisterSummary:
    """The register for the reports; `national` is the wave's analysis (for table 2.11)."""
    with store.session() as session:
        entries = register.list_entries(session)
        by_trust: dict[str, list[register.Entry]] = {}
        for e in entries:
            by_trust.setdefault(e.trust, []).append(e)
        summary = RegisterSummary(store, by_trust)
        running = session.execute(
            select(Initiative.kind, Organisation.code)
            .join(Organisation, Organisation.id == Initiative.organisation_id)
            .where(Initiative.stage.in_(ACTIVE))
        ).all()
    trusts_by_kind: dict[str, set[str]] = {}
    for kind, code in running:
        trusts_by_kind.setdefault(kind, set()).add(code)
    said = _table_2_11(national)
    kinds = [k for k in BUILTIN.values()]
    summary.kinds = [
        KindRow(
            k.id,
            k.label,
            _withheld(len(trusts_by_kind.get(k.id, ())), threshold),
            said.get(k.id),
        )
        for k in kinds
    ]
    return summary


def _withheld(count: int, threshold: int) -> int | None:
    return None if 0 < count < threshold else count


def _table_2_11(national: dict[str, Any] | None) -> dict[str, float]:
    """Option id -> overall % of respondents saying the initiative exists (table 2.11)."""
    if not national:
        return {}
    wanted = {k.id for k in TABLE_2_11}
    for table in national.get("tables", []):
        if table.get("id") != "table_2.11":
            continue
        return {
            row["option"]: float(row["overall"]["pct"])
            for row in table["rows"]
            if row.get("option") in wanted
            and row["overall"].get("pct") is not None
            and not row["overall"].get("suppressed")
        }
    return {}
