"""Themes by role group: the framework matrix of a wave's comments, suppressed like every table.

Rows are the frame's codes, columns the role groups (or trusts). A cell holds the number of
respondents whose comments carry the code, the number of comments, and the respondents as a
percentage of the group's commenters. A parent code counts whoever is coded with it or any
code under it, so the seven themes of the starter frame add up their sub-codes. Codings are
the team's (coder `team`, the resolved coding) unless another coder is named.

Each row has the test the survey's tables use (`analysis.stats.compare_groups`: Pearson's
chi-squared, or the exact Fisher-Freeman-Halton test when expected counts are small) on
commenters coded / not coded by group, over the groups shown only.

Suppression, at the wave's threshold k:

* a group with fewer than k commenters is withheld whole, and more groups with it until the
  withheld ones hold k or more commenters and are two or more (`analysis.suppression`, over
  the groups someone is in: an empty group is no partner), so "all commenters minus the
  groups shown" cannot give a small group away;
* in a shown group, a cell is withheld when fewer than k respondents carry the code or fewer
  than k commenters do not (the complement is derivable from the commenters shown);
* then within each row, more cells are withheld, smallest first, until the withheld cells are
  not one alone and hold k or more respondents coded and k or more commenters not coded, so
  the row's total minus the cells shown gives nothing away (not even that everyone in the
  withheld groups was coded); when that cannot be done the total is withheld too, as it is
  when fewer than k respondents, or fewer than k commenters not coded, make it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from sharedground.text.errors import TextError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sharedground.analysis.stats import TestResult
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


def _row_cells(
    counts: Sequence[int], denominators: Sequence[int], shown: Sequence[bool], k: int
) -> tuple[list[bool], bool]:
    """Withheld cells of one row (see the module's rules), and whether its total is."""
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
) -> ThemeTable:
    """The themes-by-group table of a wave's comments, suppressed at the wave's threshold."""
    from sharedground.analysis.stats import compare_groups
    from sharedground.analysis.suppression import suppress
    from sharedground.instrument import SingleItem
    from sharedground.store.textschema import TEAM_CODER
    from sharedground.text.frames import flatten, stored_def

    if by not in ("role", "trust"):
        raise TextError(f"themes can be grouped by role or trust, not {by!r}")
    coder = coder or TEAM_CODER
    data = gather(session, wave, frame, coder, by=by, organisation_id=organisation_id)
    k = wave.suppression_threshold
    if by == "role":
        role_item = store.instrument_of(wave).item("role")
        assert isinstance(role_item, SingleItem)
        groups = [o.id for o in role_item.options]
        labels = [o.label for o in role_item.options]
    else:
        groups = sorted(set(data.group_of.values()))
        labels = list(groups)
    commenters = np.array(
        [sum(1 for g in data.group_of.values() if g == group) for group in groups], dtype=np.int64
    )
    total = int(commenters.sum())
    # Only groups someone is in take part: an empty group withheld beside a small one would
    # leave the small one's size as the total minus the groups shown (as the disclosure
    # decision's margins do). An empty group is withheld, since 0 is under the threshold.
    present = commenters > 0
    group_withheld = np.ones(len(groups), dtype=bool)
    total_withheld = total < k
    if present.any():
        hidden, total_withheld = suppress(commenters[present], total, k)
        group_withheld[present] = hidden
    shown = [not bool(w) for w in group_withheld]
    rows = []
    for flat in flatten(stored_def(frame)):
        coded = data.coded[flat.key]
        counts = [sum(1 for r in coded if data.group_of[r] == group) for group in groups]
        comments = [
            sum(len(s) for r, s in coded.items() if data.group_of[r] == group) for group in groups
        ]
        withheld, row_total_withheld = _row_cells(counts, commenters.tolist(), shown, k)
        row_total_withheld = row_total_withheld or total_withheld
        cells = [
            Cell(None, None, None)
            if withheld[i]
            else Cell(counts[i], comments[i], 100.0 * counts[i] / int(commenters[i]))
            for i in range(len(groups))
        ]
        count_all = sum(counts)
        total_cell = (
            Cell(None, None, None)
            if row_total_withheld
            else Cell(count_all, sum(comments), 100.0 * count_all / total if total else None)
        )
        tested = [i for i in range(len(groups)) if shown[i]]
        test = (
            compare_groups([[counts[i], int(commenters[i]) - counts[i]] for i in tested])
            if len(tested) >= 2
            else None
        )
        sources = [
            []
            if withheld[i]
            else sorted(s for r, ids in coded.items() if data.group_of[r] == groups[i] for s in ids)
            for i in range(len(groups))
        ]
        rows.append(ThemeRow(flat.key, flat.name, flat.depth, cells, total_cell, test, sources))
    return ThemeTable(
        wave=wave.name,
        frame=f"{frame.key}@{frame.version}",
        coder=coder,
        by=by,
        threshold=k,
        groups=groups,
        labels=labels,
        commenters=[int(c) if s else None for c, s in zip(commenters, shown, strict=True)],
        total_commenters=None if total_withheld else total,
        rows=rows,
    )


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
