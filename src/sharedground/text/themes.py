"""Themes by role group: the framework matrix of a wave's comments, suppressed like every table.

Rows are the frame's codes, columns the role groups (or trusts). A cell holds the number of
respondents whose comments carry the code, the number of comments, and the respondents as a
percentage of the group's commenters. A parent code counts whoever is coded with it or any
code under it, so the seven themes of the starter frame add up their sub-codes. Codings are
the team's (coder `team`, the resolved coding) unless another coder is named.

Each row has the test the survey's tables use (`analysis.stats.compare_groups`: Pearson's
chi-squared, or the exact Fisher-Freeman-Halton test when expected counts are small) on
commenters coded / not coded by group, over the groups whose cell is shown only.

Suppression, at the wave's threshold k, is one decision for the whole wave
(`text.disclosure`), which every text output reads, so the national tables by role, the
table by trust and each trust's table by role cannot be set against one another:

* the margins keep this module's rules: a group with fewer than k commenters is withheld
  whole, and more groups with it until the withheld ones hold k or more commenters and are
  two or more (`analysis.suppression`, over the groups someone is in: an empty group is no
  partner), so "all commenters minus the groups shown" cannot give a small group away; in
  a row, a cell is withheld when fewer than k respondents carry the code or fewer than k
  commenters do not, and more cells with it (`row_cells`) until the withheld ones are not
  one alone and hold k or more coded and k or more not coded;
* a trust's cells by role are withheld wherever the survey's decision withholds the
  group in that trust, where they are small, and where "national minus the other trusts"
  or a trust's total would give a small one back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sharedground.text.errors import TextError

if TYPE_CHECKING:
    import numpy.typing as npt
    from sqlalchemy.orm import Session

    from sharedground.analysis.disclosure.decide import Decision
    from sharedground.analysis.stats import TestResult
    from sharedground.text.disclosure import TextDecision, TextTable

    IntArray = npt.NDArray[np.int64]
    BoolArray = npt.NDArray[np.bool_]
    from sharedground.store import Store, Wave
    from sharedground.store.textschema import CodeFrame


@dataclass(frozen=True)
class Cell:
    respondents: int | None
    comments: int | None
    percent: float | None

    @property
    def withheld(self) -> bool:
        return self.respondents is None


@dataclass
class ThemeRow:
    code: str
    name: str
    depth: int
    cells: list[Cell]
    total: Cell
    test: TestResult | None
    #: Source ids coded here, per group (for links to the quotations); empty when withheld.
    sources: list[list[int]] = field(default_factory=list)


@dataclass
class ThemeTable:
    wave: str
    frame: str
    coder: str
    by: str
    threshold: int
    groups: list[str]
    labels: list[str]
    commenters: list[int | None]
    total_commenters: int | None
    rows: list[ThemeRow]


@dataclass(frozen=True)
class Coded:
    """What the table is made from: commenters and the codes on their comments."""

    #: response id -> group id, for every respondent with a comment.
    group_of: dict[int, str]
    #: code key -> response id -> source ids coded with it (or a code under it).
    coded: dict[str, dict[int, set[int]]]


def gather(
    session: Session,
    wave: Wave,
    frame: CodeFrame,
    coder: str,
    *,
    by: str = "role",
    organisation_id: int | None = None,
) -> Coded:
    from sqlalchemy import select

    from sharedground.store.schema import Organisation
    from sharedground.store.textschema import Coder, Coding, TextCode, TextSource

    query = select(TextSource.id, TextSource.response_id, TextSource.role, Organisation.code).join(
        Organisation, Organisation.id == TextSource.organisation_id, isouter=True
    )
    query = query.where(TextSource.wave_id == wave.id, TextSource.kind == "comment")
    if organisation_id is not None:
        query = query.where(TextSource.organisation_id == organisation_id)
    group_of: dict[int, str] = {}
    response_of: dict[int, int] = {}
    for source_id, response_id, role, trust in session.execute(query):
        group = role if by == "role" else trust
        if response_id is None or group is None:
            continue
        group_of[response_id] = group
        response_of[source_id] = response_id
    parents = {code.id: code.parent_id for code in frame.codes}
    keys = {code.id: code.key for code in frame.codes}
    coded: dict[str, dict[int, set[int]]] = {code.key: {} for code in frame.codes}
    rows = session.execute(
        select(Coding.source_id, Coding.code_id)
        .join(Coder, Coder.id == Coding.coder_id)
        .join(TextCode, TextCode.id == Coding.code_id)
        .where(Coder.name == coder, TextCode.frame_id == frame.id)
    )
    for source_id, code_id in rows:
        response_id = response_of.get(source_id)
        if response_id is None:
            continue
        current: int | None = code_id
        while current is not None:
            coded[keys[current]].setdefault(response_id, set()).add(source_id)
            current = parents[current]
    return Coded(group_of, coded)


def row_cells(
    counts: Sequence[int], denominators: Sequence[int], shown: Sequence[bool], k: int
) -> tuple[list[bool], bool]:
    """Withheld cells of one row (see the module's rules), and whether its total is.

    The row rule of a code's cells, which the wave's text decision (`text.disclosure`)
    keeps along its national role line and trust line.
    """
    n = len(counts)
    withheld = [not shown[i] or counts[i] < k or denominators[i] - counts[i] < k for i in range(n)]
    if k <= 0:
        return [not s for s in shown], False

    def held() -> list[int]:
        # A group nobody is in hides nothing, and cannot hide another group's cell either.
        return [i for i in range(n) if withheld[i] and denominators[i] > 0]

    def counts_short() -> bool:
        return sum(counts[i] for i in held()) < k

    def others_short() -> bool:
        # Those not coded: a reader who knows the withheld groups' commenters (the total
        # minus the groups shown) would otherwise learn that nearly all of them were coded.
        return sum(denominators[i] - counts[i] for i in held()) < k

    def weak() -> bool:
        return bool(held()) and (len(held()) == 1 or counts_short() or others_short())

    while weak():
        open_ = [i for i in range(n) if not withheld[i] and denominators[i] > 0]
        if not open_:
            break
        if not counts_short() and others_short():
            cheapest = min(open_, key=lambda i: (denominators[i] - counts[i], i))
        else:
            cheapest = min(open_, key=lambda i: (counts[i], i))
        withheld[cheapest] = True
    total = sum(counts)
    total_withheld = weak() or total < k or sum(denominators) - total < k
    return withheld, total_withheld


def table(
    store: Store,
    session: Session,
    wave: Wave,
    frame: CodeFrame,
    *,
    coder: str | None = None,
    by: str = "role",
    organisation_id: int | None = None,
    survey: Decision | None = None,
    decision: TextDecision | None = None,
) -> ThemeTable:
    """The themes-by-group table of a wave's comments, as the wave's decision withholds it.

    `survey` is the wave's disclosure decision (made here when not given: it reads the
    wave); `decision` the text decision itself, when the caller has made it (with sources).
    """
    from sharedground.store.schema import Organisation
    from sharedground.store.textschema import TEAM_CODER
    from sharedground.text.disclosure import text_decision

    if by not in ("role", "trust"):
        raise TextError(f"themes can be grouped by role or trust, not {by!r}")
    coder = coder or TEAM_CODER
    if decision is None:
        decision = text_decision(store, session, wave, frame, coder, survey, with_sources=True)
    cells = decision.cells
    trust: str | None = None
    if organisation_id is not None:
        organisation = session.get(Organisation, organisation_id)
        trust = None if organisation is None else organisation.code
    if by == "role":
        groups = list(cells.roles)
        labels = _role_labels(store, wave, groups)
    elif trust is not None:
        groups, labels = [trust], [trust]
    else:
        groups, labels = list(cells.trusts), list(cells.trusts)
    view = _View(decision, by, trust)
    commenters, commenters_withheld = view.commenters()
    total_commenters, total_withheld = view.total_commenters()
    rows = []
    for i, (key, name, depth) in enumerate(
        zip(cells.codes, cells.names, cells.depths, strict=True)
    ):
        counts, comments, withheld, sources = view.row(i)
        count_all, comments_all, row_total_withheld = view.row_total(i)
        cells_i = [
            Cell(None, None, None)
            if withheld[g]
            else Cell(
                int(counts[g]),
                int(comments[g]),
                100.0 * int(counts[g]) / int(commenters[g]) if commenters[g] else None,
            )
            for g in range(len(groups))
        ]
        total_cell = (
            Cell(None, None, None)
            if row_total_withheld
            else Cell(
                count_all,
                comments_all,
                100.0 * count_all / total_commenters if total_commenters else None,
            )
        )
        # The survey's test over the groups whose cell is shown: one withheld cell in it
        # would move the p-value.
        tested = [g for g in range(len(groups)) if not withheld[g]]
        test = (
            _compare([[int(counts[g]), int(commenters[g] - counts[g])] for g in tested])
            if len(tested) >= 2
            else None
        )
        rows.append(
            ThemeRow(
                key,
                name,
                depth,
                cells_i,
                total_cell,
                test,
                [[] if withheld[g] else sources[g] for g in range(len(groups))],
            )
        )
    return ThemeTable(
        wave=wave.name,
        frame=f"{frame.key}@{frame.version}",
        coder=coder,
        by=by,
        threshold=decision.threshold,
        groups=groups,
        labels=labels,
        commenters=[
            None if hidden else int(n)
            for n, hidden in zip(commenters, commenters_withheld, strict=True)
        ],
        total_commenters=None if total_withheld else total_commenters,
        rows=rows,
    )


def _compare(table: list[list[int]]) -> TestResult:
    from sharedground.analysis.stats import compare_groups

    return compare_groups(table)


def _role_labels(store: Store, wave: Wave, groups: list[str]) -> list[str]:
    from sharedground.instrument import SingleItem

    role_item = store.instrument_of(wave).item("role")
    labels = {o.id: o.label for o in role_item.options} if isinstance(role_item, SingleItem) else {}
    return [labels.get(g, g) for g in groups]


class _View:
    """One text table of the wave's decision: national by role, by trust, or one trust by
    role (`trust`); with `by="trust"` and a trust, that trust's column of the table by
    trust."""

    def __init__(self, decision: TextDecision, by: str, trust: str | None) -> None:
        self.decision = decision
        self.by = by
        cells = decision.cells
        self.row_index: int | None = None
        self.known = True
        if trust is not None:
            if trust in cells.trusts:
                self.row_index = cells.trusts.index(trust)
            else:
                self.known = False  # no response from the trust: nothing to show

    def _select(
        self, values: IntArray, withheld: BoolArray, margins: tuple[BoolArray, BoolArray]
    ) -> tuple[IntArray, BoolArray]:
        """Per group: the value and whether it is withheld."""
        roles, trusts = margins
        t = self.row_index
        if self.by == "role":
            if t is None and self.known:
                return values[:, :-1].sum(axis=0), roles.copy()
            if not self.known:
                return np.zeros(values.shape[1] - 1, dtype=np.int64), np.ones(
                    len(roles), dtype=bool
                )
            return values[t, :-1].copy(), withheld[t, :-1].copy()
        totals = values[:-1, :].sum(axis=1)
        if t is None and self.known:
            return totals, trusts.copy()
        if not self.known or t is None:
            return np.zeros(1, dtype=np.int64), np.ones(1, dtype=bool)
        return totals[[t]], trusts[[t]]

    def _total(self, values: IntArray, table: TextTable) -> tuple[int, bool]:
        t = self.row_index
        if not self.known:
            return 0, True
        if t is not None:
            return int(values[t].sum()), bool(table.trusts[t])
        if self.by == "role":
            return int(values.sum()), table.role_total
        return int(values[:-1].sum()), table.trust_total

    def commenters(self) -> tuple[IntArray, BoolArray]:
        table = self.decision.commenters
        return self._select(
            self.decision.cells.commenters, table.withheld, (table.roles, table.trusts)
        )

    def total_commenters(self) -> tuple[int, bool]:
        return self._total(self.decision.cells.commenters, self.decision.commenters)

    def row(self, i: int) -> tuple[IntArray, IntArray, BoolArray, list[list[int]]]:
        table = self.decision.codes[i]
        cells = self.decision.cells
        margins = (table.roles, table.trusts)
        counts, withheld = self._select(cells.coded[i], table.withheld, margins)
        comments, _ = self._select(cells.comments[i], table.withheld, margins)
        found = cells.sources[i] if cells.sources is not None else {}
        groups: list[list[int]] = [[] for _ in range(len(counts))]
        t = self.row_index
        for (a, b), ids in found.items():
            if not self.known:
                break
            if self.by == "role":
                if (t is None or a == t) and b < len(groups):
                    groups[b].extend(ids)
            elif a < len(cells.trusts):
                if t is None:
                    groups[a].extend(ids)
                elif a == t:
                    groups[0].extend(ids)
        return counts, comments, withheld, [sorted(g) for g in groups]

    def row_total(self, i: int) -> tuple[int, int, bool]:
        table = self.decision.codes[i]
        count, withheld = self._total(self.decision.cells.coded[i], table)
        comments, _ = self._total(self.decision.cells.comments[i], table)
        return count, comments, withheld


@dataclass(frozen=True)
class CaseRow:
    """One respondent of the framework matrix: their case number, role group and trust, and
    per code the sources (comments) of theirs coded there, the links to the quotations."""

    case: int
    role: str
    trust: str | None
    sources: dict[str, list[int]]


def case_matrix(
    session: Session,
    wave: Wave,
    frame: CodeFrame,
    *,
    coder: str | None = None,
    organisation_id: int | None = None,
) -> tuple[list[str], list[CaseRow]]:
    """The framework matrix with respondents as rows: codes in frame order, and one row per
    respondent with a comment, numbered in response order (never their key).

    For the research team's own analysis, as a REFI-QDA export is: it is not suppressed, and
    must not be published.
    """
    from sqlalchemy import select

    from sharedground.store.schema import Organisation
    from sharedground.store.textschema import TEAM_CODER, TextSource
    from sharedground.text.frames import flatten, stored_def

    data = gather(
        session, wave, frame, coder or TEAM_CODER, by="role", organisation_id=organisation_id
    )
    trusts = {
        response_id: trust
        for response_id, trust in session.execute(
            select(TextSource.response_id, Organisation.code)
            .join(Organisation, Organisation.id == TextSource.organisation_id, isouter=True)
            .where(TextSource.wave_id == wave.id, TextSource.kind == "comment")
        )
    }
    keys = [flat.key for flat in flatten(stored_def(frame))]
    rows = [
        CaseRow(
            number,
            data.group_of[response_id],
            trusts.get(response_id),
            {key: sorted(data.coded[key].get(response_id, ())) for key in keys},
        )
        for number, response_id in enumerate(sorted(data.group_of), start=1)
    ]
    return keys, rows


def write_matrix(path: Path, result: ThemeTable | tuple[list[str], list[CaseRow]]) -> None:
    """The matrix as CSV: by case (source ids per cell, `;`-separated) or by group (counts
    of respondents and comments, a withheld cell left empty)."""
    from sharedground.exchange.formulas import NeutralisingWriter

    # Every cell neutralised: a code's name beginning "=" must not become a formula.
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = NeutralisingWriter(handle)
        if isinstance(result, ThemeTable):
            writer.writerow(
                ["code", "name"]
                + [
                    f"{group} {what}"
                    for group in result.groups
                    for what in ("respondents", "comments")
                ]
                + ["all respondents", "all comments"]
            )
            for row in result.rows:
                cells = [*row.cells, row.total]
                writer.writerow(
                    [row.code, row.name]
                    + [
                        "" if value is None else value
                        for cell in cells
                        for value in (cell.respondents, cell.comments)
                    ]
                )
            return
        keys, cases = result
        writer.writerow(["case", "role", "trust", *keys])
        for case in cases:
            writer.writerow(
                [case.case, case.role, case.trust or ""]
                + [";".join(map(str, case.sources[key])) for key in keys]
            )


__all__ = [
    "CaseRow",
    "Cell",
    "Coded",
    "ThemeRow",
    "ThemeTable",
    "case_matrix",
    "gather",
    "row_cells",
    "table",
    "write_matrix",
]
