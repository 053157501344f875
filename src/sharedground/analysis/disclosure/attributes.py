"""Tables of a wave by another attribute (mode, or a single-choice question) in the same
disclosure decision and audit as its trust x role table.

`analyse --by mode` prints, per row, the nation by mode (online, postal, paper), and
`--by country` (or any single-choice question) by its answers; the national report prints
the responses by mode. Each such table is a margin of a finer one, trust x role x
category, whose other margins are the trust x role cells the trust reports print.
Suppressed on its own it can give a withheld cell back: three clinical directors in one
trust who answered on paper, beside a group another trust's report prints whole and that
also answered on paper, make the nation's paper column less that group exactly those
three.

What a reader is assumed to know, beyond everything printed: by which modes the people of
each trust's role group answered (or which answers they gave to the grouping question),
though not how many, nor whether the group has anyone in it (an empty group may be in any
category). A lead knows whom their trust's paper questionnaires went to, and the postal
sample is drawn by role (every chief executive and medical director); a group known to
have answered only online puts nothing in the paper column.

The decision: each table keeps its own rule (`suppression.suppress` along the row, as
`analyse` applies it). Then every withheld small cell of the wave's decision is checked
against the finer table: first certified moves (those of `intervals`, made within each
category so that every category's total stays as printed), and where they fall short the
linear programme over the trust x role x category table. Where a cell can be narrowed
below the protection, the categories its people are in are withheld from that row (with
a partner, so the overall figure does not give them back) and the check repeats. At worst
a row prints only its overall figure, which the national report prints anyway.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import polars as pl

from sharedground.analysis.counting import count
from sharedground.analysis.disclosure.cells import WaveCells
from sharedground.analysis.disclosure.decide import Decision, decide, required_widths
from sharedground.analysis.disclosure.intervals import (
    Flows,
    Interval,
    Published,
    intervals_from_rooms,
    line_rooms,
    wide_enough,
)
from sharedground.analysis.grouping import grouping, groupings
from sharedground.analysis.suppression import suppress

if TYPE_CHECKING:
    from sharedground.analysis.disclosure.audit import CellAudit
    from sharedground.analysis.source import WaveData
    from sharedground.instrument import Instrument

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]
Cell = tuple[int, int]

_SEP = "\x1f"


def published_by(instrument: Instrument) -> list[str]:
    """The attributes besides role and trust that `analyse --by` can print a wave by."""
    return [g for g in groupings(instrument) if g not in ("role", "trust")]


@dataclass(frozen=True)
class AttributeCells:
    """A wave's rows counted by trust x role x category of one attribute.

    Arrays are indexed [row, trust, role, category] (or without the row for respondents);
    the last trust, role and category are "none" (no trust, no role, no answer).
    """

    by: str
    ids: list[str]  # category ids, as `analyse --by` names its groups
    counted: IntArray
    valid: IntArray
    respondents: IntArray


def attribute_cells(data: WaveData, cells: WaveCells, by: str) -> AttributeCells:
    """Count every row of the wave's tables by trust x role x category, in one pass."""
    frame, instrument = data.frame, data.instrument
    roles = grouping(instrument, "role", frame)
    split = grouping(instrument, by, frame)

    def coded(expr: pl.Expr, keys: list[int]) -> pl.Expr:
        known = {k: k for k in keys}
        return expr.cast(pl.Int64).replace_strict(known, default=0).fill_null(0).cast(pl.String)

    role_keys = [int(k) for k in roles.keys]  # type: ignore[call-overload]
    category_keys = [int(k) for k in split.keys]  # type: ignore[call-overload]
    key = pl.concat_str(
        [
            pl.col("trust").fill_null(""),
            pl.lit(_SEP),
            coded(roles.expr, role_keys),
            pl.lit(_SEP),
            coded(split.expr, category_keys),
        ]
    )
    axes = (
        [*cells.trusts, ""],
        [*(str(k) for k in role_keys), "0"],
        [*(str(k) for k in category_keys), "0"],
    )
    keys = [f"{t}{_SEP}{r}{_SEP}{c}" for t in axes[0] for r in axes[1] for c in axes[2]]
    counts = count(frame, cells.specs, key, keys)
    shape = tuple(len(axis) for axis in axes)
    rows = len(cells.specs)
    return AttributeCells(
        by=by,
        ids=[str(i) for i in split.ids],
        counted=counts.counted.reshape(rows, *shape),
        valid=counts.valid.reshape(rows, *shape),
        respondents=counts.respondents.reshape(shape),
    )


@dataclass
class AttributeTable:
    """What one row of the table by the attribute withholds."""

    withheld: BoolArray  # (K,) categories withheld
    overall: bool
    #: Categories withheld beyond the table's own rule, so that no cell of the wave's
    #: decision can be narrowed through them.
    coordinated: BoolArray


@dataclass
class AttributeDecision:
    """The national table by an attribute, per row (`tables[i]` is row spec i)."""

    by: str
    cells: AttributeCells
    decision: Decision
    respondents: AttributeTable
    tables: list[AttributeTable]

    def view(self) -> AttributeView:
        return AttributeView(self)


@dataclass(frozen=True)
class AttributeView:
    """The decision as `analyse --by <attribute>` reads it (see `decide.DisclosureView`)."""

    decision: AttributeDecision

    @property
    def by(self) -> str:
        return self.decision.by

    def _columns(self, group_ids: list[str]) -> list[int]:
        return [self.decision.cells.ids.index(g) for g in group_ids]

    def row(self, index: int, group_ids: list[str]) -> tuple[BoolArray, bool]:
        table = self.decision.tables[index]
        return table.withheld[self._columns(group_ids)].copy(), table.overall

    def sizes(self, group_ids: list[str]) -> BoolArray:
        return self.decision.respondents.withheld[self._columns(group_ids)].copy()


@dataclass(frozen=True)
class TrustMarginView:
    """The national table by trust as the wave's decision prints its trust totals (the
    benchmarks' margins), so `analyse --by trust` withholds what they withhold."""

    decision: Decision
    by: str = "trust"

    def _columns(self, group_ids: list[str]) -> list[int]:
        return [self.decision.trust_index(g) for g in group_ids]

    def row(self, index: int, group_ids: list[str]) -> tuple[BoolArray, bool]:
        table = self.decision.tables[index]
        return table.trusts[self._columns(group_ids)].copy(), table.overall

    def sizes(self, group_ids: list[str]) -> BoolArray:
        return self.decision.respondents.trusts[self._columns(group_ids)].copy()


# -- the finer table as a reader sees it ---------------------------------------------------


@dataclass(frozen=True)
class _Finer:
    """One row's trust x role x category table: the wave's view, its parts by category,
    the categories the table by the attribute prints, and which categories each cell's
    people are in (`support`, known to the reader)."""

    view: Published
    parts: dict[str, IntArray]  # quantity -> (T+1) x (R+1) x (K+1)
    printed: BoolArray  # (K+1,): the last ("none") never
    overall: bool  # the row's overall figure is printed somewhere
    support: BoolArray  # (T+1) x (R+1) x (K+1): someone of the cell is in the category

    def groups(self) -> list[list[int]]:
        """Categories whose totals are known apart: each printed one, the rest together."""
        printed = [[int(a)] for a in np.flatnonzero(self.printed)]
        rest = [int(a) for a in np.flatnonzero(~self.printed)]
        return [*printed, *([rest] if rest else [])]

    def known(self) -> list[bool]:
        """Per group of categories, whether its total is known (printed, or the rest of a
        printed overall figure)."""
        return [bool(self.printed[grp[0]]) or self.overall for grp in self.groups()]

    def _split(self) -> tuple[dict[str, IntArray], BoolArray, IntArray]:
        """Quantities, withheld slots and slack per (trust, role, group of categories).

        A cell whose respondents are printed shares its room for more answers among the
        groups it has people in; a cell with nobody in a group holds nothing there.
        """
        view = self.view
        groups = self.groups()
        support = np.stack([self.support[..., grp].any(axis=-1) for grp in groups], axis=-1)
        parts = {
            q: np.stack([part[..., grp].sum(axis=-1) for grp in groups], axis=-1)
            for q, part in self.parts.items()
        }
        among = np.maximum(support.sum(axis=-1), 1)
        room = (view.cap - view.total) // among
        slack = np.where(view.cap[..., None] >= 0, room[..., None], -1)
        slack = np.broadcast_to(slack, support.shape).copy()
        return parts, view.withheld[..., None] & support, slack

    def table(self, kind: str) -> Published:
        """The finer table as a two-way table whose certified moves keep every printed
        figure of the wave and each category's total (`intervals`' moves apply to it).

        * "columns": each role column split by group of categories, every split column
          held to its total: trades across categories along the trust rows (a paper chief
          executive up and an online medical director down in one trust, the reverse in
          another);
        * "rows": each trust row split likewise, across categories along the columns;
        * "free-rows": the cells of trusts whose totals are not printed, gathered by
          category (rows) and role (columns): any of them can take a category's change;
        * "free-columns": the cells of role columns whose totals are not printed, gathered
          by trust (rows) and category (columns).
        """
        view = self.view
        parts, withheld, slack = self._split()
        n_rows, n_cols, g = withheld.shape
        known = np.array(self.known())
        everything = view.grand_printed or bool(known.all())

        def capped(total: IntArray, spare: IntArray) -> IntArray:
            return np.where(spare >= 0, total + spare, -1)

        total: IntArray = np.sum(list(parts.values()), axis=0)
        if kind in ("columns", "rows"):
            across = kind == "rows"

            def flat(array: Any) -> Any:
                if across:  # rows (trust, group), columns role
                    return array.transpose(0, 2, 1).reshape(n_rows * g, n_cols)
                return array.reshape(n_rows, n_cols * g)

            return Published(
                quantities={q: flat(v) for q, v in parts.items()},
                withheld=flat(withheld),
                rows_printed=np.ones(n_rows * g, dtype=bool) if across else view.rows_printed,
                cols_printed=view.cols_printed if across else np.ones(n_cols * g, dtype=bool),
                grand_printed=True,
                real_rows_printed=False if across else view.real_rows_printed,
                cap=flat(capped(total, slack)),
            )
        free_rows = kind == "free-rows"
        mask = withheld & self._free(free_rows)
        axis = 0 if free_rows else 1
        spare = np.where(slack < 0, np.inf, slack)
        gathered_spare = np.where(mask, spare, 0).sum(axis=axis)
        quantities = {q: np.where(mask, v, 0).sum(axis=axis) for q, v in parts.items()}
        gathered_total = sum(quantities.values())
        cap = np.where(
            np.isinf(gathered_spare), -1, gathered_total + np.nan_to_num(gathered_spare)
        ).astype(np.int64)
        hidden: BoolArray = np.asarray(mask.any(axis=axis), dtype=bool)
        if free_rows:  # rows: groups; columns: roles
            return Published(
                quantities={q: v.T.copy() for q, v in quantities.items()},
                withheld=hidden.T.copy(),
                rows_printed=known,
                cols_printed=view.cols_printed,
                grand_printed=everything,
                real_rows_printed=False,
                cap=cap.T.copy(),
            )
        return Published(  # rows: trusts; columns: groups
            quantities=quantities,
            withheld=hidden,
            rows_printed=view.rows_printed,
            cols_printed=known,
            grand_printed=everything,
            real_rows_printed=view.real_rows_printed,
            cap=cap,
        )

    def _free(self, rows: bool) -> BoolArray:
        """Trust rows (or role columns) whose totals nothing prints, broadcast to slots."""
        view = self.view
        if rows:
            free = ~view.rows_printed
            if view.grand_printed and view.real_rows_printed:
                free = free.copy()
                free[-1] = False  # "no trust" is the national figure less the trusts'
            return free[:, None, None]
        return (~view.cols_printed)[None, :, None]

    def slots(self, cell: Cell, kind: str) -> list[tuple[Cell, bool]]:
        """The cells of `table(kind)` that hold the cell's parts, and whether the cell is
        only part of one (gathered: its own value and room then bound its moves)."""
        t, r = cell
        inside = [bool(self.support[t, r, grp].any()) for grp in self.groups()]
        g = len(inside)
        if kind == "rows":
            return [((t * g + k, r), False) for k in range(g) if inside[k]]
        if kind == "columns":
            return [((t, r * g + k), False) for k in range(g) if inside[k]]
        if not self._free(kind == "free-rows").ravel()[t if kind == "free-rows" else r]:
            return []
        if kind == "free-rows":
            return [((k, r), True) for k in range(g) if inside[k]]
        return [((t, k), True) for k in range(g) if inside[k]]


KINDS = ("columns", "rows", "free-rows", "free-columns")

#: Cells of a row short of certified moves that the decision solves exactly (more are
#: taken as narrowed: see `_settle`).
SOLVED = 8
#: ... the most it tries flows for in one row, and in all (a row short of many cells
#: gives them away, and withholding settles it without a flow per cell).
FLOWED = 60
FLOW_BUDGET = 2000


class _Programme:
    """The linear programme of one row's finer table: a variable per quantity per
    (trust, role, category) slot a reader cannot rule out."""

    def __init__(self, finer: _Finer) -> None:
        from scipy.sparse import coo_array

        view = finer.view
        self.names = list(finer.parts)
        q = len(self.names)
        withheld = view.withheld
        shape = withheld.shape
        k = next(iter(finer.parts.values())).shape[-1]
        people = view.total
        slots: list[tuple[int, int, int]] = []
        for t in range(shape[0]):
            for r in range(shape[1]):
                if not withheld[t, r] and people[t, r] == 0:
                    continue  # a printed empty cell: nothing to place
                for a in range(k):
                    if finer.support[t, r, a]:
                        slots.append((t, r, a))
        self.slots = slots
        index = {slot: i for i, slot in enumerate(slots)}
        self.index = index
        self.size = len(slots) * q
        by_cell: dict[Cell, list[int]] = {}
        by_category: dict[int, list[int]] = {}
        for i, (t, r, a) in enumerate(slots):
            by_cell.setdefault((t, r), []).append(i)
            by_category.setdefault(a, []).append(i)
        self.by_cell = by_cell
        lines: list[list[int]] = []  # slot lists whose sum is printed (same for every q)
        truths: list[list[Cell]] = []  # the withheld cells of each line (truth sums)
        n_rows, n_cols = shape
        hidden = [(int(t), int(r)) for t, r in np.argwhere(withheld)]

        def line(cells_in: list[Cell]) -> None:
            members = [i for c in cells_in for i in by_cell.get(c, [])]
            if members:
                lines.append(members)
                truths.append(cells_in)

        for t in range(n_rows):
            if view.rows_printed[t]:
                line([c for c in hidden if c[0] == t])
        for r in range(n_cols):
            if view.cols_printed[r]:
                line([c for c in hidden if c[1] == r])
        if view.grand_printed:
            line(hidden)
        if view.real_rows_printed:
            line([c for c in hidden if c[0] != n_rows - 1])
        rows: list[int] = []
        cols: list[int] = []
        rhs: list[float] = []

        def equation(members: list[int], j: int, value: float) -> None:
            rows.extend([len(rhs)] * len(members))
            cols.extend(i * q + j for i in members)
            rhs.append(value)

        for j, name in enumerate(self.names):
            part = finer.parts[name]
            total = part.sum(axis=-1)
            for cell, members in by_cell.items():
                if not withheld[cell]:
                    equation(members, j, float(total[cell]))
            for members, cells_in in zip(lines, truths, strict=True):
                equation(members, j, float(sum(int(total[c]) for c in cells_in)))
            for a, members in by_category.items():
                if finer.printed[a]:
                    equation(members, j, float(part[..., a].sum()))
            if finer.overall and not view.grand_printed:
                equation(list(range(len(slots))), j, float(part.sum()))
        self.a_eq = coo_array(
            (np.ones(len(rows)), (rows, cols)), shape=(len(rhs), self.size)
        ).tocsr()
        self.b_eq = np.array(rhs)
        # A cell whose respondents are printed holds no more answers than that.
        capped = [(c, members) for c, members in by_cell.items() if view.cap[c] >= 0]
        ub_rows = [row for row, (_c, m) in enumerate(capped) for _ in range(len(m) * q)]
        ub_cols = [i * q + j for _c, m in capped for i in m for j in range(q)]
        self.a_ub = (
            coo_array(
                (np.ones(len(ub_rows)), (ub_rows, ub_cols)), shape=(len(capped), self.size)
            ).tocsr()
            if capped
            else None
        )
        self.b_ub = np.array([float(view.cap[c]) for c, _m in capped]) if capped else None

    def extreme(self, cell: Cell, which: list[int], sign: float) -> float:
        from scipy.optimize import linprog

        objective = np.zeros(self.size)
        q = len(self.names)
        for i in self.by_cell.get(cell, []):
            for j in which:
                objective[i * q + j] = sign
        result = linprog(
            objective,
            A_ub=self.a_ub,
            b_ub=self.b_ub,
            A_eq=self.a_eq if self.a_eq.shape[0] else None,
            b_eq=self.b_eq if self.a_eq.shape[0] else None,
            bounds=(0, None),
            method="highs",
        )
        if result.status == 3:
            return float("inf")
        if result.status != 0:
            raise RuntimeError(f"disclosure audit: linear programme failed ({result.message})")
        return float(sign * result.fun)

    def interval(
        self,
        cell: Cell,
        need: dict[str, float] | None = None,
        certified: dict[str, Interval] | None = None,
    ) -> dict[str, Interval]:
        """The cell's interval per quantity and for their total; with `need` and the
        `certified` intervals, only those short of their width are solved."""
        groups = [(name, [j]) for j, name in enumerate(self.names)]
        if len(self.names) > 1:
            groups.append(("total", list(range(len(self.names)))))
        found: dict[str, Interval] = {}
        for name, which in groups:
            if (
                certified is not None
                and need is not None
                and certified[name].width >= need.get(name, 0.0) - 1e-9
            ):
                found[name] = certified[name]
                continue
            low = self.extreme(cell, which, 1.0)
            high = self.extreme(cell, which, -1.0)
            found[name] = Interval(max(0.0, round(low, 9)), round(high, 9), "lp")
        return found


def finer_intervals(
    finer: _Finer,
    required: dict[Cell, dict[str, float]],
    *,
    exact: bool = False,
    solve: bool = True,
    flows: bool = True,
) -> dict[Cell, dict[str, Interval]]:
    """The interval of each cell of `required` over the finer table (see `intervals`).

    Certified moves on the two-way tables of `_Finer.table`, the best of the cell's parts
    (along lines, then, with `flows`, maximum flows); where they fall short of the width
    asked for, the linear programme settles it (unless `solve` is False: the certified
    interval, which can only understate the width).
    """
    view = finer.view
    names = list(view.quantities)
    tables = {kind: finer.table(kind) for kind in KINDS}
    lines = {
        kind: {q: line_rooms(t, v) for q, v in t.quantities.items()} for kind, t in tables.items()
    }
    parts, _withheld, slack = finer._split()
    flowing: dict[str, dict[str, Flows]] = {}
    programme: _Programme | None = None
    found: dict[Cell, dict[str, Interval]] = {}

    def own(cell: Cell, slot: Cell, kind: str, q: str) -> tuple[float, float]:
        """How far the cell's own part may move (a gathered cell's moves are its own)."""
        k = slot[0] if kind == "free-rows" else slot[1]
        spare = slack[cell][k]
        up = np.inf if spare < 0 else float(spare // len(names))
        return float(parts[q][cell][k]), up

    def better(
        rooms: dict[str, tuple[float, float]], cell: Cell, kind: str, moved: Any
    ) -> dict[str, tuple[float, float]]:
        for slot, gathered in finer.slots(cell, kind):
            for q in names:
                down, up = moved(slot, q)
                if gathered:
                    most = own(cell, slot, kind, q)
                    down, up = min(down, most[0]), min(up, most[1])
                rooms[q] = (max(rooms[q][0], down), max(rooms[q][1], up))
        return rooms

    for cell, need in required.items():
        if not exact:
            rooms = {q: (0.0, 0.0) for q in names}
            for kind in KINDS:
                rooms = better(
                    rooms,
                    cell,
                    kind,
                    lambda slot, q, kind=kind: (
                        float(lines[kind][q][0][slot]),
                        float(lines[kind][q][1][slot]),
                    ),
                )
            guess = intervals_from_rooms(view, cell, rooms, "certified")
            if flows and not wide_enough(guess, need):
                limit = max(need.values(), default=0.0)
                for kind, table in tables.items():
                    if kind not in flowing:
                        flowing[kind] = {q: Flows(table, v) for q, v in table.quantities.items()}
                    rooms = better(
                        rooms,
                        cell,
                        kind,
                        lambda slot, q, kind=kind, limit=limit: flowing[kind][q].rooms(slot, limit),
                    )
                    guess = intervals_from_rooms(view, cell, rooms, "certified")
                    if wide_enough(guess, need):
                        break
            if not solve or wide_enough(guess, need):
                found[cell] = guess
                continue
        if programme is None:
            programme = _Programme(finer)
        found[cell] = programme.interval(cell) if exact else programme.interval(cell, need, guess)
    return found


# -- the decision --------------------------------------------------------------------------


def _own_rule(valid: IntArray, people: IntArray, overall: int, threshold: int) -> AttributeTable:
    """The row as `analyse --by` suppresses it on its own (categories nobody is in are
    left out of its table)."""
    k = len(valid) - 1
    present = people[:k] > 0
    withheld = np.zeros(k, dtype=bool)
    hidden_overall = False
    if present.any() and threshold > 0:
        hidden, hidden_overall = suppress(valid[:k][present], overall, threshold)
        withheld[present] = hidden
    return AttributeTable(withheld, bool(hidden_overall), np.zeros(k, dtype=bool))


def _partner(table: AttributeTable, valid: IntArray, people: IntArray, threshold: int) -> None:
    """Withhold the cheapest further categories until the withheld ones are at least two
    and together hold the threshold, so "overall less the printed ones" gives none back."""
    k = len(table.withheld)
    present = people[:k] > 0
    while table.withheld.any():
        hidden = table.withheld & present
        if hidden.sum() >= 2 and int(valid[:k][hidden].sum()) >= threshold:
            return
        free = np.flatnonzero(present & ~table.withheld)
        if not len(free):
            return  # every category withheld: the row prints its overall figure only
        pick = free[np.argmin(valid[:k][free])]
        table.withheld[pick] = True
        table.coordinated[pick] = True


def _finer(attribute: AttributeDecision, index: int | None) -> _Finer:
    """Row `index` (None: respondents) as a reader of every output sees it."""
    cells = attribute.cells
    view = attribute.decision.published(index)
    table = attribute.respondents if index is None else attribute.tables[index]
    printed = np.append(~table.withheld, False)
    # What a reader may know of a group's modes (or answers) says nothing of whether the
    # group has anyone in it: an empty group may be in any category.
    people = cells.respondents
    support = (people > 0) | (people.sum(axis=-1, keepdims=True) == 0)
    if index is None:
        parts = {"respondents": cells.respondents}
        overall = True  # the national report prints the number of responses
    else:
        counted, valid = cells.counted[index], cells.valid[index]
        parts = {"counted": counted, "not_counted": valid - counted}
        overall = view.grand_printed or not table.overall
    return _Finer(view, parts, printed, overall, support)


def _required(
    attribute: AttributeDecision, index: int | None, protection: int
) -> dict[Cell, dict[str, float]]:
    decision = attribute.decision
    table = decision.respondents if index is None else decision.tables[index]
    return required_widths(decision.published(index), table.primary, protection)


def _settle(
    attribute: AttributeDecision, index: int | None, threshold: int, budget: list[int]
) -> None:
    """Coordinated suppression for one row of the table by the attribute."""
    cells = attribute.cells
    table = attribute.respondents if index is None else attribute.tables[index]
    if index is None:
        valid = people = cells.respondents.sum(axis=(0, 1))
    else:
        valid = cells.valid[index].sum(axis=(0, 1))
        people = cells.respondents.sum(axis=(0, 1))
    required = _required(attribute, index, threshold)
    if not required:
        return
    for _ in range(len(table.withheld) + 1):
        finer = _finer(attribute, index)
        # Moves along lines first (vectorised); flows and programmes only for a few cells:
        # when many fall short the row gives them away, and withholding settles it.
        found = finer_intervals(finer, required, solve=False, flows=False)
        failing = [cell for cell, need in required.items() if not wide_enough(found[cell], need)]
        if 0 < len(failing) <= min(FLOWED, budget[0]):
            budget[0] -= len(failing)
            found = finer_intervals(finer, {c: required[c] for c in failing}, solve=False)
            failing = [c for c in failing if not wide_enough(found[c], required[c])]
        if 0 < len(failing) <= SOLVED:
            # A few cells the certified moves leave short: the programme tells a true
            # narrowing from a move the certificate could not see. Many: the table gives
            # them away, and withholding settles it without a programme per cell.
            solved = finer_intervals(finer, {c: required[c] for c in failing})
            failing = [c for c in failing if not wide_enough(solved[c], required[c])]
        if not failing:
            return
        before = table.withheld.copy()
        present = people[: len(table.withheld)] > 0
        for cell in failing:
            reach = finer.support[cell][: len(table.withheld)] & ~table.withheld
            if not reach.any():
                # Its people are only in categories already withheld (or gave none): the
                # rest of the overall figure pins them; withhold one more to widen it.
                free = np.flatnonzero(present & ~table.withheld)
                if len(free):
                    reach[free[np.argmin(valid[: len(table.withheld)][free])]] = True
            table.withheld |= reach
            table.coordinated |= reach
        _partner(table, valid, people, threshold)
        if (table.withheld == before).all():
            return  # nothing more to withhold: the audit will say what is left


def decide_attribute(
    data: WaveData,
    by: str,
    decision: Decision | None = None,
    *,
    coordinate: bool = True,
    rows: bool = True,
) -> AttributeDecision:
    """The national table by `by` (mode or a single-choice question), row by row.

    `coordinate=False` keeps each row's own rule only (as `analyse --by` printed it before
    this decision existed): the audit then shows what that pattern gives away.
    `rows=False` settles the numbers of respondents only (the national report's responses
    by mode); the rows keep their own rule.
    """
    decision = decision or decide(data)
    threshold = decision.threshold
    cells = attribute_cells(data, decision.cells, by)
    people = cells.respondents.sum(axis=(0, 1))
    respondents = _own_rule(people, people, int(people.sum()), threshold)
    tables = [
        _own_rule(cells.valid[i].sum(axis=(0, 1)), people, int(cells.valid[i].sum()), threshold)
        for i in range(len(decision.cells.specs))
    ]
    found = AttributeDecision(by, cells, decision, respondents, tables)
    if coordinate and threshold > 0:
        budget = [FLOW_BUDGET]
        for index in [None, *(range(len(tables)) if rows else [])]:
            _settle(found, index, threshold, budget)
    return found


def audit_attribute(
    attribute: AttributeDecision, protection: int | None = None, *, exact: bool = False
) -> list[CellAudit]:
    """Every withheld small cell of the wave checked against the table by the attribute."""
    from sharedground.analysis.disclosure.audit import CellAudit

    decision = attribute.decision
    cells = decision.cells
    protection = decision.threshold if protection is None else protection
    audited: list[CellAudit] = []
    for index in [None, *range(len(cells.specs))]:
        required = _required(attribute, index, protection)
        if not required:
            continue
        found = finer_intervals(_finer(attribute, index), required, exact=exact)
        if index is None:
            name, values = f"by {attribute.by}: respondents", cells.respondents
        else:
            spec = cells.specs[index]
            option = "/" + spec.option if spec.option else ""
            name = f"by {attribute.by}: {spec.item}{option} {spec.measure}"
            values = cells.valid[index]
        for (t, r), need in required.items():
            audited.append(
                CellAudit(
                    table=name,
                    row=index,
                    trust=cells.trusts[t] if t < len(cells.trusts) else None,
                    role=cells.roles[r] if r < len(cells.roles) else None,
                    value=int(values[t, r]),
                    intervals=found[(t, r)],
                    required=need,
                )
            )
    return audited


def disclosure_view(
    data: WaveData, by: str, threshold: int | None = None
) -> AttributeView | TrustMarginView | None:
    """What `analyse --by` must withhold to agree with every other output of the wave
    (None: by role, whose national rule the wave's decision keeps as it is)."""
    if by == "role":
        return None
    decision = decide(data, threshold)
    if by == "trust":
        return TrustMarginView(decision)
    return decide_attribute(data, by, decision).view()


__all__ = [
    "AttributeCells",
    "AttributeDecision",
    "AttributeTable",
    "AttributeView",
    "TrustMarginView",
    "attribute_cells",
    "audit_attribute",
    "decide_attribute",
    "disclosure_view",
    "finer_intervals",
    "published_by",
]
