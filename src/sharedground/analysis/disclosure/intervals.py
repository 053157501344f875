"""What a reader can work out about a withheld cell: the interval of values it may take.

A table as a reader sees it (`Published`): some cells printed, others withheld, some line
totals printed. A withheld cell's value is pinned down only as far as the printed figures
allow: every table of non-negative counts that agrees with them is possible. Its interval
is the least and greatest value over those tables, a pair of linear programmes (SciPy's
`linprog` with HiGHS), as tau-argus and R's sdcTable audit a suppression pattern.

A cell carries one or more non-negative quantities (a row's "counted" and "not counted";
the valid answers are their sum), each with the same printed totals; a cell whose
respondents are printed cannot hold more valid answers than that (`cap`).

Solving two programmes per quantity for every withheld cell of a large wave is slow, so a
cheaper argument is tried first: moving people between withheld cells along a line whose
total is not printed, or round a rectangle of withheld cells (which keeps every total),
gives values the cell can certainly take. When those moves already span the protection
asked for, the programme is not needed; the interval reported is then the certified
part (the true one can only be wider). `exact=True` solves every programme.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Published:
    """One table of a wave as a reader sees it.

    Attributes:
        quantities: name -> true counts per cell, (trusts + 1) x (roles + 1).
        withheld: cells not printed (the reader knows the others).
        rows_printed: trust totals printed (per quantity); the last row is "no trust".
        cols_printed: role totals printed; the last column is "no role".
        grand_printed: the total of every cell is printed.
        real_rows_printed: the total of every row but the last is printed (benchmarks'
            national figure leaves out respondents without a trust).
        cap: per cell, the most the quantities may add up to (printed respondents);
            negative where nothing caps it.
    """

    quantities: dict[str, IntArray]
    withheld: BoolArray
    rows_printed: BoolArray
    cols_printed: BoolArray
    grand_printed: bool
    real_rows_printed: bool
    cap: IntArray

    @property
    def total(self) -> IntArray:
        return np.sum(list(self.quantities.values()), axis=0)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Interval:
    """The values a withheld cell may take, for one quantity (or "total")."""

    low: float
    high: float
    #: "lp": solved; "certified": moves found, the true interval contains this one.
    how: str

    @property
    def width(self) -> float:
        return self.high - self.low


def _slack(table: Published) -> FloatArray:
    """How many more valid answers each cell could hold (infinite where nothing caps it).

    With several quantities each gets half (rounded down), so that moves found for each on
    its own can be made together: the total's interval is then the sum of theirs.
    """
    total = table.total
    slack = np.where(table.cap >= 0, (table.cap - total).astype(float), np.inf)
    if len(table.quantities) > 1:
        slack = np.floor(slack / len(table.quantities))
    return slack


_BIG = 2**30  # "unlimited" (scipy's maximum flow takes 32-bit capacities)


class Flows:
    """Moves that keep every printed figure, as flows between a table's rows and columns.

    A withheld cell (a, b) is a pair of edges: row a -> column b carries a decrease (at
    most its value), column b -> row a an increase (at most its slack). A circulation keeps
    every row and column total. A total that is not printed is a free cell in an extra
    column (a row's total) or an extra row (a column's); their meeting cell is free when
    the grand total is not printed. How far a cell can rise is then the maximum flow from
    its row to its column without it; how far it can fall, from its column to its row.
    The flows stop once they reach `limit` (the width asked for): the graph is small but
    solved for thousands of cells, so a plain breadth-first augmenting path search with an
    early stop is quicker than a general solver's set-up.

    Used by `intervals` and by the audits of finer tables (`attributes`, `values`), which
    make the same moves within each category or answer.
    """

    def __init__(self, table: Published, values: IntArray) -> None:
        n_rows, n_cols = table.withheld.shape
        rows_printed = table.rows_printed.copy()
        if table.grand_printed and table.real_rows_printed:
            rows_printed[-1] = True  # national minus the trusts' sum: "no trust" is known
        self.n_rows = n_rows
        v_row, v_col = n_rows + n_cols, n_rows + n_cols + 1
        slack = _slack(table)
        self.capacity: dict[tuple[int, int], float] = {}
        self.neighbours: dict[int, set[int]] = {}

        def edge(a: int, b: int, c: float) -> None:
            self.capacity[(a, b)] = self.capacity.get((a, b), 0.0) + c
            self.capacity.setdefault((b, a), 0.0)
            self.neighbours.setdefault(a, set()).add(b)
            self.neighbours.setdefault(b, set()).add(a)

        for a, b in np.argwhere(table.withheld):
            edge(int(a), n_rows + int(b), float(values[a, b]))
            edge(n_rows + int(b), int(a), float(slack[a, b]))
        for a in np.flatnonzero(~rows_printed):
            edge(int(a), v_col, np.inf)
            edge(v_col, int(a), np.inf)
        for b in np.flatnonzero(~table.cols_printed):
            edge(v_row, n_rows + int(b), np.inf)
            edge(n_rows + int(b), v_row, np.inf)
        if not table.grand_printed:
            edge(v_row, v_col, np.inf)
            edge(v_col, v_row, np.inf)
        self.values = values
        self.slack = slack

    def _flow(
        self, residual: dict[tuple[int, int], float], source: int, sink: int, limit: float
    ) -> float:
        total = 0.0
        while total < limit:
            parent = {source: source}
            queue = [source]
            for node in queue:
                if node == sink:
                    break
                for nxt in self.neighbours.get(node, ()):
                    if nxt not in parent and residual[(node, nxt)] > 0:
                        parent[nxt] = node
                        queue.append(nxt)
            if sink not in parent:
                break
            push = limit - total
            node = sink
            while node != source:
                push = min(push, residual[(parent[node], node)])
                node = parent[node]
            node = sink
            while node != source:
                residual[(parent[node], node)] -= push
                residual[(node, parent[node])] += push
                node = parent[node]
            total += push
        return total

    def rooms(self, cell: tuple[int, int], limit: float = np.inf) -> tuple[float, float]:
        """How far the cell can fall and rise (each found up to `limit`)."""
        a, b = cell
        column = self.n_rows + b
        residual = dict(self.capacity)
        residual[(a, column)] -= float(self.values[a, b])
        residual[(column, a)] -= float(self.slack[a, b])
        up = self._flow(dict(residual), a, column, limit)
        down = self._flow(residual, column, a, limit)
        own = float(self.values[a, b])
        return min(own, down), min(float(self.slack[a, b]), up)


def line_rooms(table: Published, values: IntArray) -> tuple[FloatArray, FloatArray]:
    """Per cell, how far it can surely fall and rise by trading with the withheld cells of
    its column whose rows' totals are unprinted (or of its row, columns unprinted).

    The quick, vectorised part of `Flows`: in a wave of small trusts most trust totals
    are withheld, and this settles most cells without a flow computation. Used, as
    `Flows`, by `intervals` and the finer tables' audits (`attributes`, `values`).
    """
    w = table.withheld
    slack = _slack(table)
    v = values.astype(float)
    down = np.zeros(w.shape)
    up = np.zeros(w.shape)
    free_rows = ~table.rows_printed
    if table.real_rows_printed:
        free_rows[-1] = False
    for axis, free in ((0, free_rows[:, None] & w), (1, ~table.cols_printed[None, :] & w)):
        total = np.where(free, v, 0).sum(axis=axis, keepdims=True)
        finite = np.where(free & np.isfinite(slack), slack, 0)
        infinite = (free & np.isinf(slack)).astype(int)
        others_inf = infinite.sum(axis=axis, keepdims=True) - infinite > 0
        others_spare = np.where(others_inf, np.inf, finite.sum(axis=axis, keepdims=True) - finite)
        up = np.maximum(up, np.where(free, np.minimum(total - v, slack), 0))
        down = np.maximum(down, np.where(free, np.minimum(v, others_spare), 0))
    # A cell of a printed row trades with another cell of its row; the two columns settle
    # up through rows whose totals are unprinted: (t, b) down, (a, b) up, (a', r) down.
    hub = free_rows[:, None] & w
    give = np.where(hub, v, 0).sum(axis=0)  # per column, what its unprinted rows can give
    take = np.where(hub, slack, 0).sum(axis=0)  # ... and take (inf when uncapped)
    printed = ~free_rows[:, None] & w
    if printed.any() and hub.any():
        partner_up = np.where(w, np.minimum(v, take[None, :]), 0)
        partner_down = np.where(w, np.minimum(slack, give[None, :]), 0)
        row_up = partner_up.sum(axis=1, keepdims=True) - partner_up
        row_down = partner_down.sum(axis=1, keepdims=True) - partner_down
        with np.errstate(invalid="ignore"):
            row_down = np.where(np.isnan(row_down), np.inf, row_down)
        hub_up = np.minimum(np.minimum(row_up, give[None, :]), slack)
        hub_down = np.minimum(np.minimum(row_down, take[None, :]), v)
        up = np.maximum(up, np.where(printed, hub_up, 0))
        down = np.maximum(down, np.where(printed, hub_down, 0))
    return down, up


class _Programme:
    """The linear programme of one table: a variable per quantity per withheld cell."""

    def __init__(self, table: Published) -> None:
        from scipy.sparse import coo_array

        self.table = table
        self.cells = [(int(a), int(b)) for a, b in np.argwhere(table.withheld)]
        self.names = list(table.quantities)
        index = {cell: i for i, cell in enumerate(self.cells)}
        q = len(self.names)
        n = len(self.cells) * q
        self.size = n
        lines: list[list[int]] = []
        n_rows, n_cols = table.withheld.shape
        for t in range(n_rows):
            if table.rows_printed[t]:
                lines.append([index[c] for c in self.cells if c[0] == t])
        for r in range(n_cols):
            if table.cols_printed[r]:
                lines.append([index[c] for c in self.cells if c[1] == r])
        if table.grand_printed:
            lines.append(list(range(len(self.cells))))
        if table.real_rows_printed:
            lines.append([index[c] for c in self.cells if c[0] != n_rows - 1])
        lines = [line for line in lines if line]
        rows: list[int] = []
        cols: list[int] = []
        rhs: list[float] = []
        for j, name in enumerate(self.names):
            truth = table.quantities[name]
            for line in lines:
                rows.extend([len(rhs)] * len(line))
                cols.extend(i * q + j for i in line)
                rhs.append(float(sum(int(truth[self.cells[i]]) for i in line)))
        self.a_eq = coo_array((np.ones(len(rows)), (rows, cols)), shape=(len(rhs), n)).tocsr()
        self.b_eq = np.array(rhs)
        ub_rows: list[int] = []
        ub_cols: list[int] = []
        ub: list[float] = []
        for i, cell in enumerate(self.cells):
            if table.cap[cell] >= 0:
                ub_rows.extend([len(ub)] * q)
                ub_cols.extend(i * q + j for j in range(q))
                ub.append(float(table.cap[cell]))
        self.a_ub = (
            coo_array((np.ones(len(ub_rows)), (ub_rows, ub_cols)), shape=(len(ub), n)).tocsr()
            if ub
            else None
        )
        self.b_ub = np.array(ub) if ub else None
        self.index = index

    def extreme(self, cell: tuple[int, int], which: list[int], sign: float) -> float:
        from scipy.optimize import linprog

        objective = np.zeros(self.size)
        base = self.index[cell] * len(self.names)
        for j in which:
            objective[base + j] = sign
        result = linprog(
            objective,
            A_ub=self.a_ub,
            b_ub=self.b_ub,
            A_eq=self.a_eq if self.a_eq.shape[0] else None,
            b_eq=self.b_eq if self.a_eq.shape[0] else None,
            bounds=(0, None),
            method="highs",
        )
        if result.status == 3:  # unbounded: nothing printed limits the cell
            return float("inf")
        if result.status != 0:
            raise RuntimeError(f"disclosure audit: linear programme failed ({result.message})")
        return float(sign * result.fun)

    def interval(self, cell: tuple[int, int]) -> dict[str, Interval]:
        out: dict[str, Interval] = {}
        groups = [(name, [j]) for j, name in enumerate(self.names)]
        if len(self.names) > 1:
            groups.append(("total", list(range(len(self.names)))))
        for name, which in groups:
            low = self.extreme(cell, which, 1.0)
            high = self.extreme(cell, which, -1.0)
            out[name] = Interval(max(0.0, round(low, 9)), round(high, 9), "lp")
        return out


def intervals_from_rooms(
    table: Published, cell: tuple[int, int], rooms: dict[str, tuple[float, float]], how: str
) -> dict[str, Interval]:
    """A cell's intervals, per quantity and for their total, from how far each can move.

    `rooms` gives per quantity how far the cell can fall and rise (from `line_rooms` or
    `Flows.rooms`); `how` says what the intervals rest on ("certified": moves found).
    """
    out: dict[str, Interval] = {}
    for name, (down, up) in rooms.items():
        own = float(table.quantities[name][cell])
        out[name] = Interval(own - down, own + up, how)
    if len(table.quantities) > 1:
        own = float(table.total[cell])
        # Each quantity moved within its share of the slack: the moves add up.
        down = sum(d for d, _ in rooms.values())
        up = sum(u for _, u in rooms.values())
        out["total"] = Interval(own - down, own + up, how)
    return out


def wide_enough(found: dict[str, Interval], need: dict[str, float]) -> bool:
    """Whether every quantity's interval is at least as wide as the protection needs."""
    return all(found[name].width >= width - 1e-9 for name, width in need.items())


def intervals(
    table: Published,
    cells: list[tuple[int, int]],
    required: dict[tuple[int, int], dict[str, float]],
    *,
    exact: bool = False,
    solve: bool = True,
) -> dict[tuple[int, int], dict[str, Interval]]:
    """The interval of each of `cells` (withheld) per quantity and for their total.

    `required` gives, per cell, the width each quantity must reach. Certified moves are
    tried first (along lines with unprinted totals, then maximum flows); a certified
    interval that reaches the width is kept, anything else is solved exactly by linear
    programming (unless `solve` is False: the certified interval is returned, which can
    only understate the width). `exact=True` solves every cell.
    """
    programme: _Programme | None = None
    found: dict[tuple[int, int], dict[str, Interval]] = {}
    flows: dict[str, Flows] | None = None
    lines = {name: line_rooms(table, values) for name, values in table.quantities.items()}
    for cell in cells:
        need = required.get(cell, {})
        if not exact:
            quick = {name: (float(d[cell]), float(u[cell])) for name, (d, u) in lines.items()}
            guess = intervals_from_rooms(table, cell, quick, "certified")
            if wide_enough(guess, need):
                found[cell] = guess
                continue
            if flows is None:
                flows = {n: Flows(table, v) for n, v in table.quantities.items()}
            limit = max(need.values(), default=0.0) if not exact else np.inf
            moved = {name: flows[name].rooms(cell, limit) for name in table.quantities}
            best = {
                name: (max(moved[name][0], quick[name][0]), max(moved[name][1], quick[name][1]))
                for name in table.quantities
            }
            guess = intervals_from_rooms(table, cell, best, "certified")
            if not solve or wide_enough(guess, need):
                found[cell] = guess
                continue
        if programme is None:
            programme = _Programme(table)
        found[cell] = programme.interval(cell)
    return found


__all__ = [
    "Flows",
    "Interval",
    "Published",
    "intervals",
    "intervals_from_rooms",
    "line_rooms",
    "wide_enough",
]
