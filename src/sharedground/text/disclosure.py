"""The text tables in the wave's one disclosure decision, and their audit.

What the text outputs print (`themes`, `said`, `text themes|matrix|quotations`) are views of
tables shaped like the survey's (`analysis.disclosure.cells`): trust x role, with an extra
row for commenters without a trust (printed nowhere, but inside the national figures). Only
commenters with a role group are tabulated anywhere, so the "no role" column is 0:

* the commenters per cell (the "n =" of every text table);
* per code of the frame, the respondents coded with it (a parent code counts whoever is
  coded with it or a code under it) and the comments coded with it.

The national tables print the role margins and the total over roles, the by-trust table the
trust margins and its total, a trust's report (and `text themes --trust`) its row of role
cells and its margin. As for the survey, suppressing each output on its own would leave a
withheld trust cell equal to "national minus the other trusts", so the cells are decided
once for the wave (`decide_text`):

1. Whatever the survey's decision withholds of a group in a trust (its respondents' column
   in the trust's report) is withheld in every text table too, and a role the national
   report hides is hidden nationally in the text tables: a count of commenters would
   otherwise bound the withheld number of respondents from below.
2. The margins keep the rules the text tables had (`analysis.suppression.suppress` for the
   commenters, `themes.row_cells` for a code's row), along the national role line and the
   trust line.
3. Primary suppression: a cell with respondents and fewer than `threshold` commenters; in a
   code's table, a cell with commenters where fewer than `threshold` are coded, or fewer
   than `threshold` are not (the complement is derivable from the commenters).
4. Secondary suppression as the survey's (`decide.line_rule`, then audit-driven rounds
   with `decide.complement_cell`), for the coded and the not coded alike; the commenters' cells
   are settled first, and a code's table withholds at least what theirs does.
5. A cell that partners cannot protect, and the programmes leave too narrow (below), has
   the totals of its lines withheld (its trust's, then its role's national figure and the
   national total, then the trusts' total; for a code, then the commenters' too), as
   statistical offices withhold margins.

A withheld small cell must stay uncertain as the survey's do (`decide.required_widths`):
its group's size (the commenters) by the protection asked (default: the threshold), those
coded and those not coded by at least 1 (not exact), never more than the printed totals
leave. The audit (`audit_text`) gives each the interval of values consistent with every
printed text figure and what a reader knows besides: respondents coded <= commenters, a
code's count <= its parent's, respondents coded <= comments coded <= items x respondents
coded, and commenters <= respondents where the survey prints the respondents (as the
survey's audit bounds valid answers; where it withholds them, rule 1 withholds the
commenters). Two ways, as the survey's audit:

* certified moves: parts of whole groups (their commenters and everything coded among
  them, scaled alike) moved between trusts that print no text total (`transfers`, or
  `paired` when only the commenters' total is printed), and moves of a table alone or
  with others at the same cells (`intervals.intervals` with solve=False), and a code that
  prints no total through a cell rising there under its parent codes, raised first by such
  moves (`_under_raised_parents`). Moves found are possible, so the true interval can only
  be wider;
* where those fall short, linear programmes (SciPy's HiGHS): around the cell's trust (a
  few other trusts free, the rest held at their values; the cell's family of codes, then
  every code), then the whole wave with every text table free. Holding values fixed only
  adds constraints, so each interval is part of the true one: a cell fails only when the
  whole wave's programme leaves it too narrow. The decision's rounds use the programmes
  around the trust only (the trusts that hold the cell's codes in its role), at most
  `DECISION_PROGRAMMES` of them (a cell they leave short gets a partner, which is safe);
  a cell no partner is left for gets up to `MARGIN_PROGRAMMES` more before its totals
  go (rule 5). What a programme proves stays proven: cells are only withheld more.
  `exact=True` solves the whole wave's programme for every cell (slow on a large wave).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterable
from concurrent.futures import Future
from concurrent.futures import wait as wait_for
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

import numpy as np
import numpy.typing as npt

from sharedground.analysis.disclosure.audit import AuditResult, CellAudit
from sharedground.analysis.disclosure.decide import Decision, complement_cell, line_rule
from sharedground.analysis.disclosure.intervals import Interval, Published, intervals
from sharedground.analysis.suppression import suppress

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sharedground.analysis.source import WaveData
    from sharedground.store import Store, Wave
    from sharedground.store.textschema import CodeFrame

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

#: Rounds of audit-driven secondary suppression per table before giving up.
ROUNDS = 6
#: Linear programmes the decision may solve for cells the certified moves leave short
#: (about 10-30 ms each); past that, such a cell gets a partner, which is always safe.
#: On a wave of 200 trusts of mixed sizes with every code thin, solving them all took
#: 260 s and showed 61 more of 800 groups' numbers of commenters.
DECISION_PROGRAMMES = 200
#: Programmes the decision may solve, past those, for cells no partner is left to protect
#: before it withholds their totals: a national figure costs the national tables far more
#: than a partner does one trust's, and a cell the budget merely left unsolved is not one
#: shown to need it. Past these too (about 15-30 s), the totals go (always safe).
MARGIN_PROGRAMMES = 1000

Cell = tuple[int, int]
T = TypeVar("T")

log = logging.getLogger(__name__)


# -- the counts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TextCells:
    """A wave's comments counted by trust x role (the survey's axes; last: none).

    `coded[i]` and `comments[i]` are the respondents and the comments coded with code i
    (or a code under it), `codes` in frame order; `items` is the most comments one
    respondent can write (the instrument's text items).
    """

    trusts: list[str]
    roles: list[str]
    codes: list[str]
    names: list[str]
    depths: list[int]
    parents: list[int | None]
    commenters: IntArray  # (T+1) x (R+1)
    coded: IntArray  # codes x (T+1) x (R+1)
    comments: IntArray  # codes x (T+1) x (R+1)
    items: int
    #: Per code, per (trust, role) index pair, the ids of the sources coded there (links
    #: to the quotations); filled only when asked for.
    sources: list[dict[Cell, list[int]]] | None = None

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.trusts) + 1, len(self.roles) + 1

    def children(self, i: int) -> list[int]:
        return [j for j, p in enumerate(self.parents) if p == i]

    def family(self, i: int) -> list[int]:
        """The code's top-level code and every code under it."""
        root = i
        while self.parents[root] is not None:
            root = self.parents[root]  # type: ignore[assignment]
        found = [root]
        for j in found:
            found.extend(self.children(j))
        return sorted(found)

    def ancestors(self, i: int) -> list[int]:
        found = []
        parent = self.parents[i]
        while parent is not None:
            found.append(parent)
            parent = self.parents[parent]
        return found


def count_cells(
    session: Session,
    wave: Wave,
    frame: CodeFrame,
    coder: str,
    trusts: list[str],
    roles: list[str],
    items: int,
    *,
    with_sources: bool = False,
    released: Collection[int] | None = None,
) -> TextCells:
    """Count the wave's commenters, and those coded by `coder` with each code, per cell.

    Trust and role come from the response (as the survey's cells do), so the text tables
    and the survey's are counted over the same people: with `released` (the final figures'
    responses, `final.released_ids`) only those, so a late return's comment waits for its
    batch as its answers do.
    """
    from sqlalchemy import select

    from sharedground.store.schema import Organisation, Response
    from sharedground.store.textschema import Coder, Coding, TextCode, TextSource
    from sharedground.text.frames import flatten, stored_def

    flat = flatten(stored_def(frame))
    codes = [f.key for f in flat]
    index = {key: i for i, key in enumerate(codes)}
    parents = [None if f.parent is None else index[f.parent] for f in flat]
    t_index = {t: i for i, t in enumerate(trusts)}
    r_index = {r: i for i, r in enumerate(roles)}
    shape = (len(trusts) + 1, len(roles) + 1)
    rows = session.execute(
        select(TextSource.id, TextSource.response_id, Response.role, Organisation.code)
        .join(Response, Response.id == TextSource.response_id)
        .join(Organisation, Organisation.id == Response.organisation_id, isouter=True)
        .where(TextSource.wave_id == wave.id, TextSource.kind == "comment")
    )
    cell_of: dict[int, Cell] = {}
    response_of: dict[int, int] = {}
    for source_id, response_id, role, trust in rows:
        r = r_index.get(role)
        if r is None or response_id is None:
            continue  # no role group: in no text table
        if released is not None and response_id not in released:
            continue  # a late return not yet in the final figures
        cell_of[response_id] = (t_index.get(trust, len(trusts)), r)
        response_of[source_id] = response_id
    commenters = np.zeros(shape, dtype=np.int64)
    for t, r in cell_of.values():
        commenters[t, r] += 1
    code_index = {code.id: index[code.key] for code in frame.codes}
    coded_by: list[dict[int, set[int]]] = [{} for _ in codes]
    found = session.execute(
        select(Coding.source_id, Coding.code_id)
        .join(Coder, Coder.id == Coding.coder_id)
        .join(TextCode, TextCode.id == Coding.code_id)
        .where(Coder.name == coder, TextCode.frame_id == frame.id)
    )
    for source_id, code_id in found:
        response_id = response_of.get(source_id)
        if response_id is None:
            continue
        current: int | None = code_index[code_id]
        while current is not None:
            coded_by[current].setdefault(response_id, set()).add(source_id)
            current = parents[current]
    coded = np.zeros((len(codes), *shape), dtype=np.int64)
    comments = np.zeros((len(codes), *shape), dtype=np.int64)
    sources: list[dict[Cell, list[int]]] | None = [] if with_sources else None
    for i, members in enumerate(coded_by):
        per_cell: dict[Cell, list[int]] = {}
        for response_id, ids in members.items():
            cell = cell_of[response_id]
            coded[i][cell] += 1
            comments[i][cell] += len(ids)
            if sources is not None:
                per_cell.setdefault(cell, []).extend(ids)
        if sources is not None:
            sources.append({cell: sorted(ids) for cell, ids in per_cell.items()})
    return TextCells(
        trusts=list(trusts),
        roles=list(roles),
        codes=codes,
        names=[f.name for f in flat],
        depths=[f.depth for f in flat],
        parents=parents,
        commenters=commenters,
        coded=coded,
        comments=comments,
        items=max(items, 1),
        sources=sources,
    )


# -- the decision -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Lines:
    """Which line totals of a trust x role table are printed (as `intervals.Published`)."""

    rows: BoolArray  # (T+1,): each trust's total; the last ("no trust") never
    cols: BoolArray  # (R+1,): each role's national total
    grand: bool  # the total of every cell
    real_rows: bool  # the total of every row but "no trust"

    def __or__(self, other: Lines) -> Lines:
        return Lines(
            self.rows | other.rows,
            self.cols | other.cols,
            self.grand or other.grand,
            self.real_rows or other.real_rows,
        )

    def __and__(self, other: Lines) -> Lines:
        return Lines(
            self.rows & other.rows,
            self.cols & other.cols,
            self.grand and other.grand,
            self.real_rows and other.real_rows,
        )

    def masks(self, shape: tuple[int, int]) -> list[BoolArray]:
        """Each printed line as a mask of its cells."""
        found = []
        for t in np.flatnonzero(self.rows):
            mask = np.zeros(shape, dtype=bool)
            mask[t, :] = True
            found.append(mask)
        for r in np.flatnonzero(self.cols):
            mask = np.zeros(shape, dtype=bool)
            mask[:, r] = True
            found.append(mask)
        if self.grand:
            found.append(np.ones(shape, dtype=bool))
        if self.real_rows:
            mask = np.ones(shape, dtype=bool)
            mask[-1, :] = False
            found.append(mask)
        return found


@dataclass
class TextTable:
    """What one text table withholds: its cells, and its margins in the national tables."""

    withheld: BoolArray  # (T+1) x (R+1)
    primary: BoolArray  # (T+1) x (R+1): withheld for being small
    roles: BoolArray  # (R,) national role cells withheld
    trusts: BoolArray  # (T,) trust totals withheld
    role_total: bool  # the national total over role groups withheld
    trust_total: bool  # the by-trust table's total withheld

    @property
    def secondary(self) -> BoolArray:
        return self.withheld & ~self.primary

    @property
    def lines(self) -> Lines:
        # "No role" is 0 in every text table and known to be: a printed column.
        return Lines(
            np.append(~self.trusts, False),
            np.append(~self.roles, True),
            not self.role_total,
            not self.trust_total,
        )


@dataclass
class TextDecision:
    """The cells withheld from every text output of a wave (one frame, one coder)."""

    survey: Decision
    cells: TextCells
    threshold: int
    commenters: TextTable
    codes: list[TextTable]

    def code_index(self, key: str) -> int:
        return self.cells.codes.index(key)

    @property
    def listed(self) -> BoolArray:
        """Per trust, whether its lead is given its comments (its coding pages, its export):
        where its report prints its number of commenters. A lead given them counts its
        commenters (and, per role group the pages name, theirs): printed, that adds nothing
        to what the report says; withheld (fewer wrote than the threshold, or the total kept
        back as a partner), it would give a withheld count back, so the comments of so few
        people stay with the research team."""
        return ~self.commenters.trusts

    def trust_index(self, trust: str) -> int:
        return self.cells.trusts.index(trust)


def _present_margin(
    totals: IntArray, grand: int, threshold: int, present: BoolArray
) -> tuple[BoolArray, bool]:
    """`suppress` over the groups someone responded in (as the survey's margins): a group
    with respondents and no commenter is small; a group with no respondent is withheld (0
    is small) but is nobody's partner."""
    hidden = np.ones(len(totals), dtype=bool)
    overall = grand < threshold
    if present.any():
        found, overall = suppress(totals[present], grand, threshold)
        hidden[present] = found
    return hidden, bool(overall)


def _row_margin(
    counts: IntArray, commenters: IntArray, shown: BoolArray, threshold: int
) -> tuple[BoolArray, bool]:
    from sharedground.text.themes import row_cells

    withheld, total = row_cells(
        counts.tolist(), commenters.tolist(), [bool(s) for s in shown], threshold
    )
    return np.array(withheld, dtype=bool), bool(total)


def decide_text(survey: Decision, cells: TextCells, threshold: int | None = None) -> TextDecision:
    """Decide, once for the wave, which text cells every text output withholds."""
    threshold = survey.threshold if threshold is None else threshold
    if cells.trusts != survey.cells.trusts or cells.roles != survey.cells.roles:
        raise ValueError("text cells and the survey's decision are on different axes")
    c = cells.commenters
    shape = cells.shape
    x = survey.cells.respondents
    real = np.zeros(shape, dtype=bool)
    real[:-1, :-1] = True
    no_trust = np.zeros(shape, dtype=bool)
    no_trust[-1, :-1] = True
    people = survey.respondents
    # What the survey withholds of a group (its respondents' column in a trust's report,
    # the absent groups of a trust that hides some), the text tables withhold too.
    forced = people.withheld & (real | no_trust)
    n_trusts = len(cells.trusts)
    if threshold <= 0:
        nothing = np.zeros(shape, dtype=bool)
        unprinted = no_trust & (c > 0)

        def bare() -> TextTable:
            return TextTable(
                unprinted.copy(),
                nothing.copy(),
                np.zeros(len(cells.roles), dtype=bool),
                np.zeros(n_trusts, dtype=bool),
                False,
                False,
            )

        return TextDecision(survey, cells, threshold, bare(), [bare() for _ in cells.codes])
    model = _Model(survey, cells, threshold)
    nothing = np.zeros(shape, dtype=bool)

    # Commenters: respondents there and fewer than `threshold` of them commented.
    primary = (x > 0) & (c < threshold) & (real | no_trust)
    withheld = primary | forced | (no_trust & (c > 0))
    roles, role_total = _present_margin(
        c.sum(axis=0)[:-1], int(c.sum()), threshold, x.sum(axis=0)[:-1] > 0
    )
    roles |= people.roles
    trusts, trust_total = _present_margin(
        c.sum(axis=1)[:-1], int(c[:-1].sum()), threshold, x.sum(axis=1)[:-1] > 0
    )
    commenters = TextTable(withheld, primary, roles, trusts, role_total, trust_total)
    # The codes' margins by their own rule: which trusts print a code's total bears on
    # what the commenters' cells can hide.
    own = []
    for i in range(len(cells.codes)):
        k = cells.coded[i]
        own.append(
            (
                *_row_margin(k.sum(axis=0)[:-1], c.sum(axis=0)[:-1], ~commenters.roles, threshold),
                *_row_margin(k.sum(axis=1)[:-1], c.sum(axis=1)[:-1], ~commenters.trusts, threshold),
            )
        )

    def margins(i: int) -> tuple[BoolArray, BoolArray, bool, bool]:
        """Code i's margins: its own, and whatever the commenters' withhold (as they stand)."""
        roles_i, role_total_i, trusts_i, trust_total_i = own[i]
        return (
            roles_i | commenters.roles,
            trusts_i | commenters.trusts,
            role_total_i or commenters.role_total,
            trust_total_i or commenters.trust_total,
        )

    model.tables["c"] = commenters
    model.codes_free = _codes_free([margins(i)[1] for i in range(len(own))], n_trusts)
    small = [
        (c > 0) & ((k < threshold) | (c - k < threshold)) & (real | no_trust) for k in cells.coded
    ]
    # Until a code is decided, its table stands in with the cells it will withhold at
    # least (its small ones, the commenters'): moves found on them hold for the final one.
    for i in range(len(own)):
        model.tables[f"k{i}"] = TextTable(small[i] | commenters.withheld, nothing, *margins(i))
    _settle(model, None, real & (x > 0))
    model.codes_free = _codes_free([margins(i)[1] for i in range(len(own))], n_trusts)
    for i in range(len(own)):
        model.tables[f"k{i}"] = TextTable(small[i] | commenters.withheld, nothing, *margins(i))

    decision = TextDecision(survey, cells, threshold, commenters, [])
    for i in range(len(own)):
        table = TextTable(small[i] | commenters.withheld, small[i], *margins(i))
        model.tables[f"k{i}"] = table
        decision.codes.append(table)
        _settle(model, i, real & (c > 0))
    # A code's margins withheld late (by `_settle`) do not free any trust for the others.
    model.codes_free = _codes_free([t.trusts for t in decision.codes], n_trusts)
    return decision


def _codes_free(trusts: list[BoolArray], n_trusts: int) -> BoolArray:
    """Rows ("no trust" last) whose total no code's table prints."""
    free = np.ones(n_trusts, dtype=bool)
    for withheld in trusts:
        free &= withheld
    return np.append(free, True)


def _settle(model: _Model, code: int | None, eligible: BoolArray) -> None:
    """Secondary suppression for the commenters (code None) or one code (`_complete`); a
    cell still too narrow after it has the totals of its lines withheld (its trust's, or
    the trusts' total for "no trust"; then its role's national figure and the national
    total; then the trusts' total too), as statistical offices withhold margins when cells
    cannot protect a cell."""
    own = model.tables["c" if code is None else f"k{code}"]
    failing = _prove(model, code, _complete(model, code, eligible))
    steps = [(own, "trust"), (own, "role"), (own, "totals")]
    if code is not None:
        # A code's cell can be pinned by the commenters' totals (the number not coded is
        # the commenters less the coded): theirs go too, and every code's with them (a
        # code's table withholds at least what the commenters' does). Withholding more
        # totals only widens what was decided before.
        steps += [(model.tables["c"], step) for step in ("trust", "role", "totals")]
    for table, step in steps:
        if not failing:
            return
        for a, b in failing:
            if step == "trust":
                if a < len(table.trusts):
                    table.trusts[a] = True
                else:
                    table.trust_total = True
            elif step == "role":
                if b < len(table.roles):
                    table.roles[b] = True
                table.role_total = True
            else:
                table.role_total = table.trust_total = True
        if table is not own:
            _cover(model)
        failing = _prove(model, code, _complete(model, code, eligible))


def _prove(model: _Model, code: int | None, failing: list[Cell]) -> list[Cell]:
    """Of the cells `_complete` left too narrow with no partner to add, those the programmes
    around their trust leave too narrow too, solved from `MARGIN_PROGRAMMES` (a cell is
    short there only because the decision's budget was spent); the rest are proven."""
    if not failing:
        return failing
    required = model.required(code, model.threshold)
    found = model.certify(code, {cell: required[cell] for cell in failing})
    spare, model.budget = model.budget, model.reserve
    short = []
    for cell in failing:
        for name, width in required[cell].items():
            if found[cell][name].width >= width - 1e-9 or (code, cell, name) in model.proven:
                continue
            if model.solve(code, name, cell, width, whole=False).width < width - 1e-9:
                short.append(cell)
                break
            model.proven.add((code, cell, name))
    model.reserve, model.budget = model.budget, spare
    return short


def _cover(model: _Model) -> None:
    """Every code's table withholds at least the commenters' margins."""
    commenters = model.tables["c"]
    for name, table in model.tables.items():
        if name != "c":
            table.roles |= commenters.roles
            table.trusts |= commenters.trusts
            table.role_total = table.role_total or commenters.role_total
            table.trust_total = table.trust_total or commenters.trust_total
    model.codes_free = _codes_free(
        [t.trusts for n, t in model.tables.items() if n != "c"], len(commenters.trusts)
    )


def _complete(model: _Model, code: int | None, eligible: BoolArray) -> list[Cell]:
    """Secondary suppression for the commenters (code None) or one code: the line rule on
    every quantity, then audit-driven rounds. Returns the cells still too narrow."""
    threshold = model.threshold
    table = model.tables["c" if code is None else f"k{code}"]
    quantities = model.quantities(code)
    for attempt in range(ROUNDS + 1):
        model.forget()
        lines = table.lines
        while True:
            before = int(table.withheld.sum())
            for values in quantities.values():
                line_rule(values, table.withheld, eligible, lines.rows, lines.cols, threshold)
            if int(table.withheld.sum()) == before:
                break
        required = model.required(code, threshold)
        found = model.certify(code, required)
        failing = []
        for cell, need in required.items():
            short = False
            for name, width in need.items():
                if found[cell][name].width >= width - 1e-9 or (code, cell, name) in model.proven:
                    continue
                # Around the cell's trust only: the whole wave's programme is for the audit
                # (a cell this leaves short gets a partner, which is safe).
                found[cell][name] = model.solve(code, name, cell, width, whole=False)
                if found[cell][name].width < width - 1e-9:
                    short = True
                else:
                    model.proven.add((code, cell, name))
            if short:
                failing.append(cell)
        if not failing or attempt == ROUNDS:
            return failing
        view = Published(
            quantities=quantities,
            withheld=table.withheld,
            rows_printed=lines.rows,
            cols_printed=lines.cols,
            grand_printed=lines.grand,
            real_rows_printed=lines.real_rows,
            cap=np.full(table.withheld.shape, -1, dtype=np.int64),
        )
        added = False
        for cell in failing:
            # A partner for what is still short, not for what a programme has proven.
            need = {n: w for n, w in required[cell].items() if (code, cell, n) not in model.proven}
            pick = complement_cell(
                view,
                table.withheld,
                eligible,
                np.sum(list(quantities.values()), axis=0),
                cell,
                found[cell],
                need,
                threshold,
            )
            if pick is not None:
                table.withheld[pick] = True
                added = True
        if not added:
            return failing
    raise AssertionError("unreachable: the last round returns")


# -- what a reader can work out -----------------------------------------------------------------


class _Model:
    """The text tables as a reader relates them to one another.

    Tables by name: "c" the commenters, "k<i>" and "m<i>" the respondents and the comments
    coded with code i (the comments share the respondents' pattern). `tables` holds the
    decisions made so far. The survey's respondents bound the commenters where they are
    printed, as they bound the valid answers of the survey's own tables (`decide.
    published_table`'s cap); where they are withheld, so are the commenters (rule 1).
    """

    def __init__(self, survey: Decision, cells: TextCells, threshold: int) -> None:
        self.survey = survey
        self.cells = cells
        self.threshold = threshold
        self.shape = cells.shape
        people = survey.respondents
        self.x = survey.cells.respondents
        self.x_cap = np.where(people.withheld, np.inf, self.x.astype(float))
        view = survey.published(None)
        self.x_lines = Lines(
            view.rows_printed, view.cols_printed, view.grand_printed, view.real_rows_printed
        )
        self.x_withheld = people.withheld
        self.tables: dict[str, TextTable] = {}
        #: Rows ("no trust" last) whose total no code's table prints.
        self.codes_free = np.ones(self.shape[0], dtype=bool)
        #: Linear programmes solved; those the decision may still solve (the audit has no
        #: limit); programmes made on the current patterns, by scope and trusts.
        self.solved = 0
        self.budget = DECISION_PROGRAMMES
        self.reserve = MARGIN_PROGRAMMES
        #: (code, cell, quantity) a programme has shown wide enough: cells and totals are
        #: only ever withheld more as the decision goes on, so it stays so.
        self.proven: set[tuple[int | None, Cell, str]] = set()
        self._programmes: dict[tuple[tuple[str, ...], bytes | None], _Joint] = {}
        self._max_coded = (
            cells.coded.max(axis=0) if len(cells.codes) else np.zeros(self.shape, dtype=np.int64)
        )

    def values(self, name: str) -> IntArray:
        if name == "c":
            return self.cells.commenters
        kind, i = name[0], int(name[1:])
        found: IntArray = self.cells.coded[i] if kind == "k" else self.cells.comments[i]
        return found

    def table(self, name: str) -> TextTable:
        return self.tables["c" if name == "c" else f"k{name[1:]}"]

    def quantities(self, code: int | None) -> dict[str, IntArray]:
        c = self.cells.commenters
        if code is None:
            return {"commenters": c}
        k = self.cells.coded[code]
        return {"coded": k, "not_coded": c - k}

    # What each cell must be uncertain by.
    def _ceiling(self, bounds: list[tuple[IntArray, Lines, BoolArray | None]]) -> FloatArray:
        """Per cell, the most a quantity can be given the printed totals (and printed cells)
        that bound it: no pattern makes its interval wider."""
        ceiling = np.full(self.shape, np.inf)
        for values, lines, withheld in bounds:
            printed = lines.rows.copy()
            # The whole and the trusts' total (or every trust's) give "no trust"'s total.
            printed[-1] |= lines.grand and (lines.real_rows or bool(lines.rows[:-1].all()))
            rows = np.where(printed, values.sum(axis=1), np.inf)
            cols = np.where(lines.cols, values.sum(axis=0), np.inf)
            ceiling = np.minimum(ceiling, np.minimum(rows[:, None], cols[None, :]))
            if lines.grand:
                ceiling = np.minimum(ceiling, float(values.sum()))
            if withheld is not None:
                ceiling = np.where(withheld, ceiling, np.minimum(ceiling, values))
        return ceiling

    def required(self, code: int | None, protection: int) -> dict[Cell, dict[str, float]]:
        """Per withheld small cell, the width each quantity must reach, by the survey's rule
        (`decide.required_widths`): the group's size (its commenters) the protection, the
        coded and the not coded 1 (not exact); never more than the printed totals leave."""
        x_bound = (self.x, self.x_lines, self.x_withheld)
        c_table = self.tables["c"]
        c = self.cells.commenters
        c_bound = (c, c_table.lines, c_table.withheld)
        found: dict[Cell, dict[str, float]] = {}
        if code is None:
            ceiling = np.minimum(float(protection), self._ceiling([c_bound, x_bound]))
            for a, b in np.argwhere(c_table.primary & c_table.withheld):
                found[(int(a), int(b))] = {"commenters": float(ceiling[a, b])}
            return found
        table = self.tables[f"k{code}"]
        k = self.cells.coded[code]
        n = c - k
        coded = np.minimum(1.0, self._ceiling([(k, table.lines, None), c_bound]))
        n_lines = table.lines & c_table.lines
        not_coded = np.minimum(1.0, self._ceiling([(n, n_lines, None), c_bound]))
        for a, b in np.argwhere(table.primary & table.withheld):
            found[(int(a), int(b))] = {
                "coded": float(coded[a, b]),
                "not_coded": float(not_coded[a, b]),
            }
        return found

    # Certified moves.
    def _partners(self) -> tuple[BoolArray, BoolArray]:
        """Trusts that print no text total ("no trust" last: apart from the others when the
        trusts' total is printed), and the cells of theirs that can trade: withheld."""
        table = self.tables["c"]
        # A code's table withholds at least what the commenters' does: a trust that prints
        # no number of commenters prints no code's total either.
        free = np.append(table.trusts, True)
        if not table.trust_total:
            free[-1] = False
        return free, free[:, None] & table.withheld

    def transfers(self, values: IntArray, cells: list[Cell]) -> dict[Cell, tuple[float, float]]:
        """Moves of whole groups' comments between trusts, within a role (`values` is what
        is measured of them: commenters, or those coded or not with one code).

        Where two trusts print no total of any text table (and the cells are withheld in
        every one), part of one trust's group (its commenters and everything coded among
        them, scaled alike) can be moved to the other's: every relation between the
        tables is linear and homogeneous, so it holds for the part moved and for what
        remains, and every national total stays. Only a printed number of respondents caps
        a group. Rising: parts of other trusts' groups come in; falling: the cell's own
        group goes out, to trusts with room.
        """
        c = self.cells.commenters.astype(float)
        v = values.astype(float)
        _, partners = self._partners()
        room = self.x_cap - c

        def others(values: FloatArray) -> FloatArray:
            """Column sums over the partners, less the cell itself (it is one of them)."""
            finite = np.where(partners & np.isfinite(values), values, 0.0)
            endless = partners & np.isinf(values)
            total = finite.sum(axis=0)[None, :] - finite
            more = endless.sum(axis=0)[None, :] - endless > 0
            return np.where(more, np.inf, total)

        gain_c, gain_v, space = others(c), others(v), others(room)
        with np.errstate(divide="ignore", invalid="ignore"):
            up = np.where(np.isinf(room), gain_v, np.minimum(gain_v, gain_v * room / gain_c))
            down = np.where(c > 0, v * np.minimum(1.0, space / c), 0.0)
        out: dict[Cell, tuple[float, float]] = {}
        for a, b in cells:
            if not partners[a, b]:
                out[(a, b)] = (0.0, 0.0)
                continue
            rise = float(up[a, b]) if np.isfinite(up[a, b]) else 0.0
            if np.isfinite(room[a, b]) and rise < gain_v[a, b]:
                rise = self._knapsack(c, v, partners, a, b, float(room[a, b]))
            out[(a, b)] = (_floor(down[a, b]), _floor(rise))
        return out

    def _knapsack(
        self, c: FloatArray, v: FloatArray, partners: BoolArray, a: int, b: int, room: float
    ) -> float:
        """The most of `v` that parts of other groups bring into a capped cell: the groups
        richest in it first (a fractional knapsack)."""
        mask = partners[:, b].copy()
        mask[a] = False
        gain_c, gain_v = c[mask, b], v[mask, b]
        order = np.argsort(-(gain_v / np.maximum(gain_c, 1e-12)), kind="stable")
        left, up = room, 0.0
        for j in order:
            if left <= 0:
                break
            share = 1.0 if gain_c[j] <= left else left / gain_c[j]
            up += share * gain_v[j]
            left -= share * gain_c[j]
        return up

    def paired(self, values: IntArray, cells: list[Cell]) -> dict[Cell, tuple[float, float]]:
        """Transfers (as `transfers`) for a trust whose number of commenters is printed but
        no code's total: as much of its other groups' commenters goes out to other trusts
        as comes into the cell's group, so the trust's total stays. Each part is a share
        of a whole group, the same share of every group concerned."""
        c = self.cells.commenters.astype(float)
        v = values.astype(float)
        table = self.tables["c"]
        free, partners = self._partners()
        room = self.x_cap - c
        space = np.where(partners, room, 0.0).sum(axis=0)
        donors_c = np.where(partners, c, 0.0).sum(axis=0)
        donors_v = np.where(partners, v, 0.0).sum(axis=0)
        leaving = np.minimum(c, space[None, :])  # of group (a, r), to other trusts
        arriving = np.minimum(room, donors_c[None, :])  # into group (a, r), from them
        out: dict[Cell, tuple[float, float]] = {}
        for a, b in cells:
            if (
                free[a]
                or a == self.shape[0] - 1
                or not self.codes_free[a]
                or not table.withheld[a, b]
            ):
                out[(a, b)] = (0.0, 0.0)
                continue
            others = [int(r) for r in np.flatnonzero(table.withheld[a]) if r != b]
            # In: the same share of every partner's group, as much as the others can give.
            come = min(float(arriving[a, b]), float(leaving[a, others].sum()))
            up = donors_v[b] * come / donors_c[b] if donors_c[b] > 0 else 0.0
            # Out: a share of the cell's own group, as much as the others can take.
            go = min(float(leaving[a, b]), float(arriving[a, others].sum()))
            down = v[a, b] * go / c[a, b] if c[a, b] > 0 else 0.0
            out[(a, b)] = (_floor(down), _floor(up))
        return out

    def _moves(
        self,
        names: list[str],
        down: FloatArray,
        up: FloatArray,
        cells: list[Cell],
        need: dict[Cell, float],
    ) -> dict[Cell, tuple[float, float]]:
        """How far each cell can surely fall and rise when the tables `names` move together
        by the same amount in each cell, each within [-down, +up] there."""
        withheld = np.ones(self.shape, dtype=bool)
        lines: Lines | None = None
        for name in names:
            withheld &= self.table(name).withheld
            lines = self.table(name).lines if lines is None else lines | self.table(name).lines
        assert lines is not None
        low = np.floor(np.maximum(down, 0)).astype(np.int64)
        up = np.maximum(up, 0)
        capped = np.isfinite(up)
        cap = np.where(capped, low + np.floor(np.where(capped, up, 0)), -1).astype(np.int64)
        table = Published(
            quantities={"q": low},
            withheld=withheld,
            rows_printed=lines.rows,
            cols_printed=lines.cols,
            # `intervals`' flows read the trusts' total only beside the whole (as the
            # survey's tables print both or neither): with the trusts' total alone, hold
            # the whole too, which only holds more fixed.
            grand_printed=lines.grand or lines.real_rows,
            real_rows_printed=lines.real_rows,
            cap=cap,
        )
        moving = [cell for cell in cells if withheld[cell]]
        found = intervals(table, moving, {cell: {"q": need[cell]} for cell in moving}, solve=False)
        out = {cell: (0.0, 0.0) for cell in cells}
        for cell in moving:
            got = found[cell]["q"]
            out[cell] = (float(low[cell]) - got.low, got.high - float(low[cell]))
        return out

    def _max(self, arrays: IntArray, which: Iterable[int]) -> IntArray:
        chosen = list(which)
        if not chosen:
            return np.zeros(self.shape, dtype=np.int64)
        return np.asarray(arrays[chosen].max(axis=0))

    def _stack_down(self, stack: list[int]) -> FloatArray:
        """How far codes `stack` (with their comments) can fall together, the codes under
        them that are not in it held."""
        cells = self.cells
        k, m, items = cells.coded, cells.comments, cells.items
        inside = set(stack)
        down = np.full(self.shape, np.inf)
        for s in stack:
            others = [j for j in cells.children(s) if j not in inside]
            down = np.minimum(down, k[s] - self._max(k, others))
            down = np.minimum(down, m[s] - self._max(m, others))
            if items > 1:
                # m - d <= items x (k - d): comments cannot outnumber items per respondent.
                down = np.minimum(down, np.floor((items * k[s] - m[s]) / (items - 1)))
        return down

    def solve(
        self,
        code: int | None,
        quantity: str,
        cell: Cell,
        need: float,
        *,
        whole: bool,
        exact: bool = False,
    ) -> Interval:
        """The interval of a quantity of a cell by linear programming: around the cell's
        trust first (a few other trusts free, the rest held; the cell's family of codes,
        then every code), then, if `whole`, the whole wave. Each holds more fixed than a
        reader need, so each interval is a part of the true one, and so is their hull."""
        info = self.cells
        everything = ["c", *(f"k{i}" for i in range(len(info.codes)))]
        everything += [f"m{i}" for i in range(len(info.codes))]
        if code is None:
            names, terms = everything, {"c": 1.0}
        else:
            family = info.family(code)
            names = ["c", *(f"k{j}" for j in family), *(f"m{j}" for j in family)]
            terms = {f"k{code}": 1.0} if quantity == "coded" else {"c": 1.0, f"k{code}": -1.0}
        steps: list[tuple[list[str], BoolArray | None]] = []
        if not exact:
            near = self.neighbourhood(cell, code)
            steps += [(names, near)] + ([(everything, near)] if names != everything else [])
        if whole or exact:
            steps.append((everything, None))
        best: Interval | None = None
        for scope, rows in steps:
            if not whole and self.budget <= 0:
                break  # the decision's share is spent: the cell gets a partner instead
            key = (tuple(scope), None if rows is None else rows.tobytes())
            if key not in self._programmes:
                self._programmes[key] = _Joint(self, scope, rows)
            joint = self._programmes[key]
            got = joint.interval(terms, cell)
            if not whole:
                self.budget -= joint.solved
            self.solved += joint.solved
            joint.solved = 0
            best = (
                got
                if best is None
                else Interval(min(best.low, got.low), max(best.high, got.high), "lp")
            )
            if best.width >= need - 1e-9 and not exact:
                break
        return best if best is not None else Interval(0.0, 0.0, "none")

    def forget(self) -> None:
        """The patterns changed: programmes made on the old ones no longer hold."""
        self._programmes.clear()

    def neighbourhood(self, cell: Cell, code: int | None = None, size: int = 8) -> BoolArray:
        """The cell's trust, "no trust" and the `size` trusts most able to trade with it:
        those with the most commenters in withheld cells of the roles the cell's trust has
        withheld; for a code, first those where its family is coded in such cells (a code
        of a cell rises only as its parent codes come from elsewhere, and those codes
        move only where someone is coded with them)."""
        table = self.tables["c"]
        a = cell[0]
        roles = table.withheld[a]
        weight = np.where(table.withheld[:, roles], self.cells.commenters[:, roles], 0).sum(axis=1)
        weight = weight + table.withheld[:, roles].sum(axis=1)  # an empty withheld cell helps
        if code is not None:
            b = cell[1]
            mass = np.zeros(self.shape[0], dtype=np.int64)
            for j in self.cells.family(code):
                held = self.tables[f"k{j}"].withheld[:, b]
                mass += np.where(held, self.cells.coded[j][:, b], 0)
            weight = weight + mass * (int(weight.max(initial=0)) + 1)
        weight[a] = -1
        rows = np.zeros(self.shape[0], dtype=bool)
        rows[a] = True
        rows[-1] = True
        order = np.argsort(-weight, kind="stable")
        rows[[r for r in order[:size] if weight[r] > 0]] = True
        return rows

    def _commenter_moves(
        self, cells: list[Cell], need: dict[Cell, float]
    ) -> dict[Cell, tuple[float, float]]:
        """Commenters moved with everything coded among them (transfers), or alone."""
        c = self.cells.commenters
        found = self.transfers(c, cells)
        short = [cell for cell in cells if sum(found[cell]) < need[cell] - 1e-9]
        if short:
            more = self.paired(c, short)
            for cell in short:
                found[cell] = _wider(found[cell], more[cell])
        short = [cell for cell in cells if sum(found[cell]) < need[cell] - 1e-9]
        # With the codes that are as many as the commenters there (they would stop the
        # commenters falling), and the codes above them: one set of moves per such set.
        info = self.cells
        c = info.commenters
        groups: dict[tuple[int, ...], list[Cell]] = {}
        for cell in short:
            top = {
                j for j in range(len(info.codes)) if c[cell] > 0 and info.coded[j][cell] == c[cell]
            }
            groups.setdefault(tuple(sorted(top)), []).append(cell)
        for stack, group in groups.items():
            down, up = self._stack_rooms(list(stack), with_commenters=True)
            more = self._moves(["c", *(f"k{j}" for j in stack)], down, up, group, need)
            for cell in group:
                found[cell] = _wider(found[cell], more[cell])
        return found

    def _commenters_alone(
        self, cells: list[Cell], need: dict[Cell, float]
    ) -> dict[Cell, tuple[float, float]]:
        """Commenters moved with every code held (so the not coded move with them)."""
        c = self.cells.commenters
        down = (c - self._max_coded).astype(float)
        return self._moves(["c"], down, self.x_cap - c, cells, need)

    def _stack_rooms(
        self, stack: list[int], with_commenters: bool
    ) -> tuple[FloatArray, FloatArray]:
        """How far codes `stack` (and the commenters, if asked) can fall and rise together,
        everything else held."""
        info = self.cells
        k, m, c = info.coded, info.comments, info.commenters
        down = self._stack_down(stack)
        up: FloatArray
        if with_commenters:
            held = [j for j in range(len(info.codes)) if j not in stack]
            down = np.minimum(down, c - self._max(k, held))
            up = self.x_cap - c
        else:
            up = np.full(self.shape, np.inf)
            for s in stack:
                up = np.minimum(up, c - k[s])
        for s in stack:
            parent = info.parents[s]
            if parent is not None and parent not in stack:
                up = np.minimum(up, k[parent] - k[s])
                up = np.minimum(up, m[parent] - m[s])
        return down, up

    def _under_raised_parents(
        self, code: int, cells: list[Cell], need: dict[Cell, float]
    ) -> dict[Cell, tuple[float, float]]:
        """How far a code can rise in cells where its table prints no line (no trust, role
        or national total through them), once its parent codes are raised there.

        There the code, with its comments, rises alone as far as the commenters and its
        parent leave room. A parent that is exactly the codes under it (as when only they
        are applied, by hand or by a script) leaves none where the code is 0, and cannot
        move without the code beside it: a code never applied was certified nowhere, and
        every one of its cells went to the programmes. So first the parent codes move
        between cells as `_moves` allows them (with one other code under the parent, or
        alone), the code held; then the code rises under them. Both steps keep every
        relation between the tables and every printed figure, so the value is possible.
        """
        info = self.cells
        k, m, c = info.coded, info.comments, info.commenters
        out = {cell: (0.0, 0.0) for cell in cells}
        parent = info.parents[code]
        lines = self.table(f"k{code}").lines
        last = self.shape[0] - 1
        # Cells no printed total runs through (its trust's, its role's, the whole, the trusts').
        free = [
            (a, b)
            for a, b in cells
            if not (lines.grand or lines.rows[a] or lines.cols[b] or (lines.real_rows and a < last))
        ]
        if parent is None or not free:
            return out
        own = c - k[code]
        under = np.minimum(k[parent] - k[code], m[parent] - m[code])
        ancestors = info.ancestors(code)
        stacks = [ancestors] + [[*ancestors, j] for j in info.children(parent) if j != code]
        for stack in stacks:
            todo = [cell for cell in free if out[cell][1] < need[cell] - 1e-9]
            if not todo:
                break
            down, up = self._stack_rooms(stack, with_commenters=False)
            raised = self._moves([f"k{s}" for s in stack], down, up, todo, need)
            for cell in todo:
                rise = min(float(own[cell]), float(under[cell]) + raised[cell][1])
                out[cell] = (0.0, max(out[cell][1], rise))
        return out

    def certify(
        self, code: int | None, required: dict[Cell, dict[str, float]]
    ) -> dict[Cell, dict[str, Interval]]:
        """Certified intervals of the withheld small cells of the commenters (None) or a code."""
        cells = list(required)
        c = self.cells.commenters
        if code is None:
            need = {cell: required[cell]["commenters"] for cell in cells}
            moves = self._commenter_moves(cells, need)
            return {cell: {"commenters": _interval(c[cell], moves[cell])} for cell in cells}
        info = self.cells
        k = info.coded[code]
        n = c - k
        need_k = {cell: required[cell]["coded"] for cell in cells}
        need_n = {cell: required[cell]["not_coded"] for cell in cells}
        coded = self.transfers(k, cells)
        not_coded = self.transfers(n, cells)

        def short(found: dict[Cell, tuple[float, float]], need: dict[Cell, float]) -> list[Cell]:
            return [cell for cell in cells if sum(found[cell]) < need[cell] - 1e-9]

        todo = sorted(set(short(coded, need_k)) | set(short(not_coded, need_n)))
        if todo:
            more_k, more_n = self.paired(k, todo), self.paired(n, todo)
            for cell in todo:
                coded[cell] = _wider(coded[cell], more_k[cell])
                not_coded[cell] = _wider(not_coded[cell], more_n[cell])

        # The code alone, then with its parent codes, then with each code under it: the
        # commenters held, what the coded gain the not coded lose.
        ancestors = info.ancestors(code)
        stacks = [[code], [code, *ancestors]] + [[code, j] for j in info.children(code)]
        for stack in stacks:
            todo = sorted(set(short(coded, need_k)) | set(short(not_coded, need_n)))
            if not todo:
                break
            if len(stack) == 1 and stack is not stacks[0]:
                continue  # the same as the first
            down, up = self._stack_rooms(stack, with_commenters=False)
            need = {cell: max(need_k[cell], need_n[cell]) for cell in todo}
            rooms = self._moves([f"k{s}" for s in stack], down, up, todo, need)
            for cell in todo:
                coded[cell] = _wider(coded[cell], rooms[cell])
                not_coded[cell] = _wider(not_coded[cell], rooms[cell][::-1])
        todo = sorted(set(short(coded, need_k)) | set(short(not_coded, need_n)))
        if todo and ancestors:
            rooms = self._under_raised_parents(code, todo, need_k)
            for cell in todo:
                coded[cell] = _wider(coded[cell], rooms[cell])
                not_coded[cell] = _wider(not_coded[cell], rooms[cell][::-1])
        todo = short(coded, need_k)
        if todo:
            # With its parent codes and the commenters (the not coded held).
            stack = [code, *ancestors]
            down, up = self._stack_rooms(stack, with_commenters=True)
            rooms = self._moves([f"k{s}" for s in stack] + ["c"], down, up, todo, need_k)
            for cell in todo:
                coded[cell] = _wider(coded[cell], rooms[cell])
        todo = short(not_coded, need_n)
        if todo:
            # The commenters alone (the coded held).
            rooms = self._commenters_alone(todo, need_n)
            for cell in todo:
                not_coded[cell] = _wider(not_coded[cell], rooms[cell])
        return {
            cell: {
                "coded": _interval(k[cell], coded[cell]),
                "not_coded": _interval(n[cell], not_coded[cell]),
            }
            for cell in cells
        }


def _floor(value: float) -> float:
    """Certified moves are whole respondents (the values found are exact fractions)."""
    return float(np.floor(float(value) + 1e-9))


def _wider(one: tuple[float, float], other: tuple[float, float]) -> tuple[float, float]:
    """Two certified (fall, rise) pairs: each end is a possible value, and so is every value
    between them (the values consistent with the tables form a convex set)."""
    return max(one[0], other[0]), max(one[1], other[1])


def _interval(value: int | np.integer, room: tuple[float, float]) -> Interval:
    v = float(value)
    return Interval(v - room[0], v + room[1], "certified")


class _Joint:
    """A linear programme over the withheld cells of tables `names` in trusts `rows` (all if
    None), everything else at its values (which only narrows what it finds)."""

    def __init__(self, model: _Model, names: list[str], rows: BoolArray | None = None) -> None:
        from scipy.sparse import coo_array

        self.model = model
        info = model.cells
        shape = model.shape
        inside = (
            np.ones(shape, dtype=bool) if rows is None else np.repeat(rows[:, None], shape[1], 1)
        )
        self.index: dict[tuple[str, int, int], int] = {}
        free: dict[str, BoolArray] = {}
        for name in names:
            free[name] = model.table(name).withheld & inside
            for a, b in np.argwhere(free[name]):
                self.index[(name, int(a), int(b))] = len(self.index)
        n = len(self.index)
        lower = np.zeros(n)
        upper = np.full(n, np.inf)
        e_rows: list[int] = []
        e_cols: list[int] = []
        e_rhs: list[float] = []
        # Printed lines: the cells free in each add up to what the line leaves them.
        for name in names:
            values = model.values(name)
            for mask in model.table(name).lines.masks(shape):
                part = mask & free[name]
                if not part.any():
                    continue
                for a, b in np.argwhere(part):
                    e_rows.append(len(e_rhs))
                    e_cols.append(self.index[(name, int(a), int(b))])
                e_rhs.append(float(values[part].sum()))
        u_rows: list[int] = []
        u_cols: list[int] = []
        u_data: list[float] = []
        n_ub = 0
        # low <= factor x high, per cell; a side held at its value is a bound.
        links: list[tuple[str, str, float]] = []
        for i, parent in enumerate(info.parents):
            links += [(f"k{i}", "c", 1.0), (f"k{i}", f"m{i}", 1.0), (f"m{i}", f"k{i}", info.items)]
            if parent is not None:
                links += [(f"k{i}", f"k{parent}", 1.0), (f"m{i}", f"m{parent}", 1.0)]
        for low_name, high_name, factor in links:
            if low_name not in free and high_name not in free:
                continue
            low_values, high_values = model.values(low_name), model.values(high_name)
            either = free.get(low_name, False) | free.get(high_name, False)
            for a, b in np.argwhere(either):
                lo = self.index.get((low_name, int(a), int(b)))
                hi = self.index.get((high_name, int(a), int(b)))
                if hi is None:
                    assert lo is not None
                    upper[lo] = min(upper[lo], factor * float(high_values[a, b]))
                elif lo is None:
                    lower[hi] = max(lower[hi], float(low_values[a, b]) / factor)
                else:
                    u_rows += [n_ub, n_ub]
                    u_cols += [lo, hi]
                    u_data += [1.0, -factor]
                    n_ub += 1
        if "c" in free:
            for a, b in np.argwhere(free["c"]):
                j = self.index[("c", int(a), int(b))]
                upper[j] = min(upper[j], float(model.x_cap[a, b]))
        self.a_eq = (
            coo_array((np.ones(len(e_rows)), (e_rows, e_cols)), shape=(len(e_rhs), n)).tocsr()
            if e_rhs
            else None
        )
        self.b_eq = np.array(e_rhs) if e_rhs else None
        self.a_ub = coo_array((u_data, (u_rows, u_cols)), shape=(n_ub, n)).tocsr() if n_ub else None
        self.b_ub = np.zeros(n_ub) if n_ub else None
        self.bounds = [
            (lo, None if np.isinf(hi) else hi) for lo, hi in zip(lower, upper, strict=True)
        ]
        self.solved = 0

    def _extreme(self, objective: dict[int, float]) -> float:
        from scipy.optimize import linprog

        c = np.zeros(len(self.index))
        for j, weight in objective.items():
            c[j] += weight
        result = linprog(
            c,
            A_ub=self.a_ub,
            b_ub=self.b_ub,
            A_eq=self.a_eq,
            b_eq=self.b_eq,
            bounds=self.bounds,
            method="highs",
        )
        self.solved += 1
        if result.status == 3:  # unbounded: nothing printed limits it
            return float("-inf")
        if result.status != 0:
            raise RuntimeError(f"disclosure audit of the text tables: {result.message}")
        return float(result.fun)

    def interval(self, terms: dict[str, float], cell: Cell) -> Interval:
        """The interval of sum(weight x table[cell]) over `terms`; a table outside the
        programme counts at its value."""
        objective: dict[int, float] = {}
        constant = 0.0
        for name, weight in terms.items():
            j = self.index.get((name, *cell))
            if j is None:
                constant += weight * float(self.model.values(name)[cell])
            else:
                objective[j] = weight
        if not objective:
            return Interval(constant, constant, "lp")
        low = self._extreme(objective) + constant
        high = -self._extreme({j: -w for j, w in objective.items()}) + constant
        return Interval(max(0.0, round(low, 9)), round(high, 9), "lp")


# -- the audit ----------------------------------------------------------------------------------


def audit_text(
    decision: TextDecision, wave: str, protection: int | None = None, *, exact: bool = False
) -> AuditResult:
    """Audit every withheld small cell of the text tables against `protection` (default: the
    threshold), as `analysis.disclosure.audit` does the survey's."""
    protection = decision.threshold if protection is None else protection
    result = AuditResult(wave, decision.threshold, protection)
    if decision.threshold <= 0:
        return result
    model = _Model(decision.survey, decision.cells, decision.threshold)
    model.tables["c"] = decision.commenters
    for i, table in enumerate(decision.codes):
        model.tables[f"k{i}"] = table
    model.codes_free = _codes_free([t.trusts for t in decision.codes], len(decision.cells.trusts))
    cells = decision.cells

    def settle(
        code: int | None,
        found: dict[Cell, dict[str, Interval]],
        required: dict[Cell, dict[str, float]],
    ) -> None:
        for cell, need in required.items():
            for q, width in need.items():
                if exact or found[cell][q].width < width - 1e-9:
                    found[cell][q] = model.solve(code, q, cell, width, whole=True, exact=exact)

    present = (decision.survey.cells.respondents > 0)[:-1, :-1]
    tables = [("commenters", None, decision.commenters)] + [
        (code, i, table)
        for i, (code, table) in enumerate(zip(cells.codes, decision.codes, strict=True))
    ]
    for name, code, table in tables:
        result.withheld_primary += int((table.withheld & table.primary)[:-1, :-1].sum())
        result.withheld_secondary += int((table.secondary[:-1, :-1] & present).sum())
        required = model.required(code, protection)
        found = model.certify(code, required)
        settle(code, found, required)
        values = cells.commenters if code is None else cells.coded[code]
        trusts, roles = cells.trusts, cells.roles
        for (t, r), need in required.items():
            result.cells.append(
                CellAudit(
                    table=f"text {name}",
                    row=code,
                    trust=trusts[t] if t < len(trusts) else None,
                    role=roles[r] if r < len(roles) else None,
                    value=int(values[t, r]),
                    intervals=found[(t, r)],
                    required=need,
                )
            )
    result.solved = model.solved
    return result


# -- for the outputs ----------------------------------------------------------------------------


def text_decision(
    store: Store,
    session: Session,
    wave: Wave,
    frame: CodeFrame,
    coder: str,
    survey: Decision | None = None,
    *,
    with_sources: bool = False,
    today: dt.date | None = None,
) -> TextDecision:
    """The text decision of a wave's comments coded by `coder` with `frame`; `survey` is the
    wave's decision when the caller has it (made here otherwise: it reads the wave's final
    figures as of `today`, default the study's today).

    Once fieldwork is over, only the comments of the responses in the final figures count
    (`final.released_ids`), as the survey's decision counts only their answers.
    """
    from sharedground.analysis.disclosure.final import released_ids

    if survey is None:
        from sharedground.analysis.disclosure.decide import decide
        from sharedground.analysis.disclosure.final import released_data
        from sharedground.analysis.source import load_wave

        survey = decide(released_data(store, load_wave(store, wave.name), today)[0])
    released = released_ids(session, wave, today)
    cells = _survey_cells(store, session, wave, frame, coder, survey, released, with_sources)
    return decide_text(survey, cells)


def _survey_cells(
    store: Store,
    session: Session,
    wave: Wave,
    frame: CodeFrame,
    coder: str,
    survey: Decision,
    released: Collection[int] | None,
    with_sources: bool = False,
) -> TextCells:
    """`count_cells` on the survey decision's axes, with the questionnaire's text items."""
    from sharedground.instrument import TextItem

    instrument = store.instrument_of(wave)
    items = sum(1 for item in instrument.items() if isinstance(item, TextItem))
    return count_cells(
        session,
        wave,
        frame,
        coder,
        survey.cells.trusts,
        survey.cells.roles,
        items,
        with_sources=with_sources,
        released=released,
    )


def roles_shown_in_trust(
    store: Store, session: Session, wave: Wave, trust: str, frame: CodeFrame
) -> set[str]:
    """The role groups whose comments an output for one trust may label with their group.

    A comment labelled with its role group tells its reader how many of the group commented
    in the trust, exactly; so a group is named only where every text decision of the wave
    prints its cell in the trust's row of commenters. Whatever that row withholds, a small
    group or a partner chosen so that "national less the other trusts" cannot give a small
    one back (in another trust too), stays unnamed, as the trust's report leaves it.

    The decisions: the team's coding with `frame` and with each frame the team has coded the
    wave's comments with (the reports print the busiest; the commenters' partners can depend
    on the frame), over the survey's decision as the trust's report takes it (the wave's
    final figures once fieldwork is over, `analysis.disclosure.final`, as every text output
    takes it). A group no decision knows (a role outside the questionnaire's, a trust without
    responses) is not named.
    """
    return set(shown_in_trust(store, session, wave, trust, frame).roles)


@dataclass(frozen=True)
class TrustShown:
    """What an output for one trust (its lead's export, its coding pages) may carry of a
    wave's comments coded with one frame."""

    #: The role groups its comments may be labelled with (`roles_shown_in_trust`).
    roles: frozenset[str]
    #: The codes whose team codings may go with them (`codes_shown_in_trust`).
    codes: frozenset[str]
    #: The codes of the frame, in frame order (those not in `codes` are left out).
    frame_codes: tuple[str, ...]
    #: The responses the wave's final figures count (None: every stored one).
    released: frozenset[int] | None
    #: Whether the trust's comments are listed to it at all (`TextDecision.listed`): only
    #: where its report prints its number of commenters, which a lead given them counts.
    listed: bool = True


def shown_in_trust(
    store: Store, session: Session, wave: Wave, trust: str, frame: CodeFrame
) -> TrustShown:
    """The role groups and the codes an output for one trust may show of the wave's comments
    (`roles_shown_in_trust`, `codes_shown_in_trust` over the team's decision with `frame`).

    The decisions are those the trust's report makes, remembered for as long as nothing they
    are made from changes (`_remember`): a lead's coding page asks on every view.
    """
    from sqlalchemy import select

    from sharedground.analysis.disclosure.final import released_ids
    from sharedground.store.textschema import TEAM_CODER, CodeFrame, Coder, Coding, TextCode
    from sharedground.store.textschema import TextSource as Source
    from sharedground.text.frames import flatten, stored_def

    keys = tuple(f.key for f in flatten(stored_def(frame)))
    # The survey's first: it reads (and may mark) the wave's close in a session of its own,
    # which the caller's must not hold open a write on before.
    survey, survey_key = final_survey(store, wave)
    released = released_ids(session, wave)
    if trust not in survey.cells.trusts:
        return TrustShown(frozenset(), frozenset(), keys, released)
    coded = session.scalars(
        select(TextCode.frame_id)
        .join(Coding, Coding.code_id == TextCode.id)
        .join(Coder, Coder.id == Coding.coder_id)
        .join(Source, Source.id == Coding.source_id)
        .where(Coder.name == TEAM_CODER, Source.wave_id == wave.id, TextCode.frame_id != frame.id)
        .distinct()
        .order_by(TextCode.frame_id)
    ).all()
    chosen = [frame, *(f for f in (session.get(CodeFrame, i) for i in coded) if f is not None)]
    decisions = [
        _remembered_text(store, session, wave, each, survey, survey_key, released)
        for each in chosen
    ]
    roles: set[str] | None = None
    for decision in decisions:
        row = decision.commenters.withheld[decision.trust_index(trust)]
        here = {role for r, role in enumerate(decision.cells.roles) if not row[r]}
        roles = here if roles is None else roles & here
    if not all(decision.listed[decision.trust_index(trust)] for decision in decisions):
        return TrustShown(frozenset(), frozenset(), keys, released, listed=False)
    named = frozenset(roles or ())
    return TrustShown(
        named, frozenset(codes_shown_in_trust(decisions[0], trust, named)), keys, released
    )


def listed_waves(store: Store, session: Session, trust: str, wave_ids: Iterable[int]) -> set[int]:
    """Of `wave_ids`, the waves whose comments an output for one trust (its coding pages, its
    export) may list: those where the trust's report prints its number of commenters in the
    wave's text tables (`TextDecision.listed`), over each frame the team has coded the
    comments with (the newest frame when none is). With no frame stored, no text table is
    printed, so there is no count to give away: listed."""
    from sqlalchemy import select

    from sharedground.store.schema import Wave
    from sharedground.store.textschema import TEAM_CODER, CodeFrame, Coder, Coding, TextCode
    from sharedground.store.textschema import TextSource as Source

    found: set[int] = set()
    for wave_id in sorted(set(wave_ids)):
        wave = session.get(Wave, wave_id)
        if wave is None:
            continue
        frame_id = session.scalar(
            select(TextCode.frame_id)
            .join(Coding, Coding.code_id == TextCode.id)
            .join(Coder, Coder.id == Coding.coder_id)
            .join(Source, Source.id == Coding.source_id)
            .where(Coder.name == TEAM_CODER, Source.wave_id == wave.id)
            .order_by(TextCode.frame_id)
            .limit(1)
        )
        frame = (
            session.scalar(select(CodeFrame).order_by(CodeFrame.id.desc()).limit(1))
            if frame_id is None
            else session.get(CodeFrame, frame_id)
        )
        if frame is None or shown_in_trust(store, session, wave, trust, frame).listed:
            found.add(wave_id)
    return found


def codes_shown_in_trust(decision: TextDecision, trust: str, roles: Collection[str]) -> set[str]:
    """The codes whose codings (the team's, which `decision` counts) an output for one trust
    may carry when it labels comments with `roles`: every count they let its reader make is
    one the trust's report prints.

    Counting a code's codings, a reader gets the respondents (and the comments) coded with
    it in each role group named, and in the whole trust; so a code is shown only where the
    decision prints its trust total and its cell of every group named. What the report
    withholds of the groups left unnamed is then the trust's total less the cells named:
    printed already.

    A code counts whoever carries it or a code under it, and a reader can count a theme's
    codings the same way, over whatever of its codes is there. With one code of a theme
    left out, the theme's printed count less what is there would be a bound on the cells
    withheld (exactly the left-out code's, when the theme has no codings of its own; with
    its printed total, the cells' partners too); a theme's sub-codes without it would bound,
    or give exactly, the theme's withheld count. So a top-level code and every code under
    it go together, where the report prints all of them, or not at all. The rule reads
    only what the report prints, never the codings: which codes are left out tells nothing
    the report does not.
    """
    cells = decision.cells
    if trust not in cells.trusts:
        return set()
    t = decision.trust_index(trust)
    named = [r for r, role in enumerate(cells.roles) if role in roles]
    prints = [
        not table.trusts[t] and not table.withheld[t, named].any() for table in decision.codes
    ]
    return {code for i, code in enumerate(cells.codes) if all(prints[j] for j in cells.family(i))}


# -- remembered decisions ---------------------------------------------------------------------

#: Decisions kept, by a digest of everything they are made from (the oldest forgotten first).
REMEMBERED = 16
_remembered: OrderedDict[tuple[object, ...], object] = OrderedDict()
#: Decisions being made, by the same keys: whoever asks for one while it is being made
#: (a page in the background, a report waiting for it) joins that computation rather than
#: starting another (a wave's survey decision takes tens of seconds).
_making: dict[tuple[object, ...], Future[object]] = {}
_remembering = threading.Lock()


def _recall(key: tuple[object, ...]) -> object | None:
    """What was made for `key`, if it is kept (the caller holds `_remembering`)."""
    if key in _remembered:
        _remembered.move_to_end(key)
        return _remembered[key]
    return None


def _make(key: tuple[object, ...], make: Callable[[], object], future: Future[object]) -> None:
    """Make what `key` stands for, keep it and hand it to whoever waits on `future`. On
    failure nothing is kept and `key` is no longer being made, so the next ask tries again."""
    try:
        made = make()
    except BaseException as error:
        with _remembering:
            del _making[key]
        future.set_exception(error)
        return
    with _remembering:
        _remembered[key] = made
        while len(_remembered) > REMEMBERED:
            _remembered.popitem(last=False)
        del _making[key]
    future.set_result(made)


def _remember(key: tuple[object, ...], make: Callable[[], T]) -> T:
    """`make()`, or what it gave before for the same `key`: a digest of the inputs, so a
    change to any of them (a response, a coding, the threshold, a late return's batch) is a
    new key, never an old answer. While it is being made (by another request, or in the
    background) this waits for that one."""
    with _remembering:
        found = _recall(key)
        if found is not None:
            return found  # type: ignore[return-value]
        future = _making.get(key)
        mine = future is None
        if future is None:
            future = _making[key] = Future()
    if mine:
        _make(key, make, future)
    return future.result()  # type: ignore[return-value]


def _remembered_or_started(key: tuple[object, ...], make: Callable[[], T]) -> T | None:
    """What `make()` gave for `key` if it is kept; if not, None at once, with `make()` run
    in a thread of its own unless it is being made already (one computation per key in the
    process). A failure is logged there, and the next call starts it again."""
    with _remembering:
        found = _recall(key)
        if found is not None:
            return found  # type: ignore[return-value]
        if key in _making:
            return None
        future: Future[object] = Future()
        _making[key] = future
    threading.Thread(
        target=_make_in_background, args=(key, make, future), name="decision", daemon=True
    ).start()
    return None


def _make_in_background(
    key: tuple[object, ...], make: Callable[[], object], future: Future[object]
) -> None:
    _make(key, make, future)
    error = future.exception()
    if error is not None:
        # No request waits for this one: logged here or lost (the next page view retries).
        log.error("making the decision %s failed", key[0], exc_info=error)


def wait_for_decisions(timeout: float | None = None) -> None:
    """Wait until no decision is being made in this process (those started by
    `final_survey_if_ready` included), whether it succeeds or fails: for tests, and for
    whoever must read the figures the pages show next."""
    while True:
        with _remembering:
            pending = list(_making.values())
        if not pending:
            return
        _, waiting = wait_for(pending, timeout)
        if waiting:
            raise TimeoutError(f"{len(waiting)} decision(s) still being made after {timeout} s")


def _digest(*parts: object) -> str:
    import hashlib

    found = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            found.update(str((part.dtype, part.shape)).encode())
            found.update(np.ascontiguousarray(part).tobytes())
        elif isinstance(part, bytes):
            found.update(part)
        else:
            found.update(repr(part).encode())
        found.update(b"\x00")
    return found.hexdigest()


def _final_data(store: Store, wave: Wave) -> tuple[WaveData, str]:
    """The wave's data as its final figures read it, and its digest (the decision's key):
    about 0.1 s for a wave of 6,000 responses, where the decision takes tens of seconds."""
    from sharedground.analysis.disclosure.final import released_data
    from sharedground.analysis.source import load_wave

    data = released_data(store, load_wave(store, wave.name))[0]
    written = data.frame.write_ipc(None)
    return data, _digest("survey", wave.id, data.suppression_threshold, written.getvalue())


def final_survey(store: Store, wave: Wave) -> tuple[Decision, str]:
    """The survey's decision over the wave's final figures (as a trust's report takes it),
    and the digest of the data it was made from; remembered while that data is unchanged,
    and waited for when it is being made already. It reads the store in sessions of its
    own and may mark the wave's close: call it with no other transaction holding a write
    open."""
    from sharedground.analysis.disclosure.decide import decide

    data, key = _final_data(store, wave)
    return _remember(("survey", key), lambda: decide(data)), key


def final_survey_if_ready(store: Store, wave: Wave) -> tuple[Decision, str] | None:
    """`final_survey` if its decision is made already; if not, None at once, with the
    decision started in the background (unless it is being made: one per wave's data in the
    process), so that a page can say the figures are being checked rather than keep its
    reader waiting the half minute it takes. The same care over sessions as `final_survey`."""
    from sharedground.analysis.disclosure.decide import decide

    data, key = _final_data(store, wave)
    found = _remembered_or_started(("survey", key), lambda: decide(data))
    return None if found is None else (found, key)


def _remembered_text(
    store: Store,
    session: Session,
    wave: Wave,
    frame: CodeFrame,
    survey: Decision,
    survey_key: str,
    released: Collection[int] | None,
) -> TextDecision:
    """`text_decision` of the team's coding with `frame` over `survey` (made from the data
    digested as `survey_key`), remembered by the counts it is made from."""
    from sharedground.store.textschema import TEAM_CODER

    cells = _survey_cells(store, session, wave, frame, TEAM_CODER, survey, released)
    key = _digest(
        "text",
        survey_key,
        frame.id,
        cells.codes,
        cells.parents,
        cells.items,
        cells.commenters,
        cells.coded,
        cells.comments,
    )
    return _remember(("text", key), lambda: decide_text(survey, cells))


def audit_wave(
    store: Store,
    wave_name: str,
    survey: Decision,
    protection: int | None = None,
    *,
    exact: bool = False,
) -> list[tuple[str, AuditResult]]:
    """The text audit of every frame the team has coded the wave's comments with (what the
    reports publish), as (frame, result) pairs; none when nothing is coded."""
    from sqlalchemy import select

    from sharedground.store.textschema import (
        TEAM_CODER,
        CodeFrame,
        Coder,
        Coding,
        TextCode,
        TextSource,
    )

    found: list[tuple[str, AuditResult]] = []
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        frame_ids = session.scalars(
            select(TextCode.frame_id)
            .join(Coding, Coding.code_id == TextCode.id)
            .join(Coder, Coder.id == Coding.coder_id)
            .join(TextSource, TextSource.id == Coding.source_id)
            .where(Coder.name == TEAM_CODER, TextSource.wave_id == wave.id)
            .distinct()
            .order_by(TextCode.frame_id)
        ).all()
        for frame_id in frame_ids:
            frame = session.get(CodeFrame, frame_id)
            assert frame is not None
            decision = text_decision(store, session, wave, frame, TEAM_CODER, survey)
            result = audit_text(decision, wave_name, protection, exact=exact)
            found.append((f"{frame.key}@{frame.version}", result))
    return found


__all__ = [
    "Lines",
    "TextCells",
    "TextDecision",
    "TextTable",
    "TrustShown",
    "audit_text",
    "audit_wave",
    "codes_shown_in_trust",
    "count_cells",
    "decide_text",
    "final_survey",
    "final_survey_if_ready",
    "listed_waves",
    "roles_shown_in_trust",
    "shown_in_trust",
    "text_decision",
    "wait_for_decisions",
]
