"""The reports' Likert charts in the audit: each answer's share, by role and by trust.

A table's cell prints how many agreed and how many gave a valid answer; the charts print
finer figures at the margins: the national report the share giving each answer (strongly
agree, tend to agree, tend to disagree, strongly disagree) per role group shown, and a
trust's report the trust's own shares (where its figure is printed) beside the other
trusts'. Per answer these are the same trust x role table's role and trust totals, so the
audit checks every withheld small cell of a Likert row against them too: certified moves
made answer by answer (each keeps every printed share), and where they fall short a linear
programme over the trust x role x answer table, in which a printed cell's split between
answers is free as long as its counts are kept.

What no pattern can give is not asked for, as in `decide.required_widths`: with the
answers' totals printed, a cell holds of each answer at most the smaller of its row's and
its column's; when nobody in a role strongly disagreed, say, no trust's cell of that role
can have, and its valid answers can be uncertain by no more than the other answers allow.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import polars as pl

from sharedground.analysis.counting import count
from sharedground.analysis.disclosure.decide import Decision
from sharedground.analysis.disclosure.intervals import (
    Flows,
    Interval,
    Published,
    intervals_from_rooms,
    line_rooms,
    wide_enough,
)
from sharedground.analysis.grouping import grouping
from sharedground.instrument import LikertItem

if TYPE_CHECKING:
    from sharedground.analysis.disclosure.audit import CellAudit
    from sharedground.analysis.source import WaveData

IntArray = npt.NDArray[np.int64]
Cell = tuple[int, int]
#: Answer codes the charts draw (1-4; 5 is "don't know", left out of valid answers).
ANSWERS = (1, 2, 3, 4)


def chart_rows(data: WaveData, decision: Decision) -> list[tuple[int, list[int]]]:
    """The rows drawn as Likert charts: (row index, positions in ANSWERS counted)."""
    found = []
    for index, spec in enumerate(decision.cells.specs):
        item = data.instrument.item(spec.item)
        if isinstance(item, LikertItem) and spec.measure == "agree":
            found.append((index, [2, 3] if item.reverse else [0, 1]))
    return found


def answer_cells(data: WaveData, decision: Decision, index: int) -> IntArray:
    """How many gave each answer of row `index`, per trust x role: (answers, T+1, R+1)."""
    cells = decision.cells
    spec = cells.specs[index]
    frame, instrument = data.frame, data.instrument
    roles = grouping(instrument, "role", frame)
    keys = [int(k) for k in roles.keys]  # type: ignore[call-overload]
    role = (
        roles.expr.cast(pl.Int64)
        .replace_strict({k: k for k in keys}, default=0)
        .fill_null(0)
        .cast(pl.String)
    )
    key = pl.concat_str([pl.col("trust").fill_null(""), pl.lit("\x1f"), role])
    axis = [f"{t}\x1f{r}" for t in [*cells.trusts, ""] for r in [*(str(k) for k in keys), "0"]]
    specs = [dataclasses.replace(spec, counted=pl.col(spec.column) == a) for a in ANSWERS]
    counted = count(frame, specs, key, axis).counted
    return counted.reshape(len(ANSWERS), *cells.shape)


def required_answer_widths(
    view: Published, answers: IntArray, agree: list[int], base: dict[Cell, dict[str, float]]
) -> dict[Cell, dict[str, float]]:
    """`base` (the table's widths) no wider than the printed answers' totals allow.

    The widths the charts' audit asks of each withheld cell: what no pattern can give
    (`decide.required_widths` says the same of the table's own margins) is not asked for.
    """
    found: dict[Cell, dict[str, float]] = {}
    for (t, r), need in base.items():
        ceilings = []
        for a in range(len(ANSWERS)):
            most = float("inf")
            if view.rows_printed[t]:
                most = min(most, float(answers[a, t, :].sum()))
            if view.cols_printed[r]:
                most = min(most, float(answers[a, :, r].sum()))
            ceilings.append(most)
        counted = sum(ceilings[a] for a in agree)
        other = sum(ceilings[a] for a in range(len(ANSWERS)) if a not in agree)
        found[(t, r)] = {
            "counted": min(need["counted"], counted),
            "not_counted": min(need["not_counted"], other),
            "total": min(need["total"], counted + other),
        }
    return found


class _Programme:
    """Trust x role x answer: a variable per cell per answer; a printed cell keeps its
    counts, each printed line its answers' totals."""

    def __init__(self, view: Published, answers: IntArray, agree: list[int]) -> None:
        from scipy.sparse import coo_array

        k, n_rows, n_cols = answers.shape
        self.k, self.n_cols = k, n_cols
        size = n_rows * n_cols * k
        self.size = size

        def var(t: int, r: int, a: int) -> int:
            return int((t * n_cols + r) * k + a)

        self.var = var
        rows: list[int] = []
        cols: list[int] = []
        rhs: list[float] = []

        def equation(members: list[int], value: float) -> None:
            rows.extend([len(rhs)] * len(members))
            cols.extend(members)
            rhs.append(value)

        disagree = [a for a in range(k) if a not in agree]
        counted, other = view.quantities["counted"], view.quantities["not_counted"]
        for t in range(n_rows):
            for r in range(n_cols):
                if view.withheld[t, r]:
                    continue
                equation([var(t, r, a) for a in agree], float(counted[t, r]))
                equation([var(t, r, a) for a in disagree], float(other[t, r]))
        for a in range(k):
            for t in range(n_rows):
                if view.rows_printed[t]:
                    equation([var(t, r, a) for r in range(n_cols)], float(answers[a, t].sum()))
            for r in range(n_cols):
                if view.cols_printed[r]:
                    equation([var(t, r, a) for t in range(n_rows)], float(answers[a, :, r].sum()))
            every = [var(t, r, a) for t in range(n_rows) for r in range(n_cols)]
            equation(every, float(answers[a].sum()))
        if view.real_rows_printed:
            for which, total in ((agree, counted), (disagree, other)):
                members = [
                    var(t, r, a) for t in range(n_rows - 1) for r in range(n_cols) for a in which
                ]
                equation(members, float(total[:-1].sum()))
        self.a_eq = coo_array((np.ones(len(rows)), (rows, cols)), shape=(len(rhs), size)).tocsr()
        self.b_eq = np.array(rhs)
        capped = [(t, r) for t in range(n_rows) for r in range(n_cols) if view.cap[t, r] >= 0]
        self.a_ub = None
        self.b_ub = None
        if capped:
            ub_rows = [i for i, _ in enumerate(capped) for _a in range(k)]
            ub_cols = [var(t, r, a) for t, r in capped for a in range(k)]
            self.a_ub = coo_array(
                (np.ones(len(ub_rows)), (ub_rows, ub_cols)), shape=(len(capped), size)
            ).tocsr()
            self.b_ub = np.array([float(view.cap[c]) for c in capped])
        self.groups = {"counted": agree, "not_counted": disagree, "total": list(range(k))}

    def interval(
        self, cell: Cell, need: dict[str, float], certified: dict[str, Interval]
    ) -> dict[str, Interval]:
        from scipy.optimize import linprog

        found: dict[str, Interval] = {}
        for name, which in self.groups.items():
            if certified[name].width >= need.get(name, 0.0) - 1e-9:
                found[name] = certified[name]
                continue
            objective = np.zeros(self.size)
            for a in which:
                objective[self.var(*cell, a)] = 1.0
            ends = []
            for sign in (1.0, -1.0):
                result = linprog(
                    sign * objective,
                    A_ub=self.a_ub,
                    b_ub=self.b_ub,
                    A_eq=self.a_eq,
                    b_eq=self.b_eq,
                    bounds=(0, None),
                    method="highs",
                )
                if result.status == 3:
                    ends.append(float("inf") * -sign)
                    continue
                if result.status != 0:
                    raise RuntimeError(
                        f"disclosure audit: linear programme failed ({result.message})"
                    )
                ends.append(float(sign * result.fun))
            found[name] = Interval(max(0.0, round(ends[0], 9)), round(ends[1], 9), "lp")
        return found


def audit_values(
    data: WaveData, decision: Decision, protection: int | None = None
) -> list[CellAudit]:
    """Every withheld small cell of the Likert rows against the charts' printed shares."""
    from sharedground.analysis.disclosure.audit import CellAudit
    from sharedground.analysis.disclosure.decide import required_widths

    cells = decision.cells
    protection = decision.threshold if protection is None else protection
    audited: list[CellAudit] = []
    for index, agree in chart_rows(data, decision):
        view = decision.published(index)
        base = required_widths(view, decision.tables[index].primary, protection)
        if not base:
            continue
        answers = answer_cells(data, decision, index)
        required = required_answer_widths(view, answers, agree, base)
        table = Published(
            quantities={str(a): answers[a] for a in range(len(ANSWERS))},
            withheld=view.withheld,
            rows_printed=view.rows_printed,
            cols_printed=view.cols_printed,
            grand_printed=True,
            real_rows_printed=False,
            cap=view.cap,
        )
        lines = {q: line_rooms(table, v) for q, v in table.quantities.items()}
        flows: dict[str, Flows] = {}
        programme: _Programme | None = None
        spec = cells.specs[index]
        for cell, need in required.items():
            # Answer by answer, printed cells fixed: moves that keep every printed share.
            rooms = {q: (float(d[cell]), float(u[cell])) for q, (d, u) in lines.items()}
            found = _answers(view, cell, rooms, agree)
            if not wide_enough(found, need):
                if not flows:
                    flows = {q: Flows(table, v) for q, v in table.quantities.items()}
                limit = max(need.values(), default=0.0)
                for q, flow in flows.items():
                    down, up = flow.rooms(cell, limit)
                    rooms[q] = (max(rooms[q][0], down), max(rooms[q][1], up))
                found = _answers(view, cell, rooms, agree)
            if not wide_enough(found, need):
                programme = programme or _Programme(view, answers, agree)
                found = programme.interval(cell, need, found)
            t, r = cell
            audited.append(
                CellAudit(
                    table=f"chart: {spec.item} {spec.measure}",
                    row=index,
                    trust=cells.trusts[t] if t < len(cells.trusts) else None,
                    role=cells.roles[r] if r < len(cells.roles) else None,
                    value=int(cells.valid[index][t, r]),
                    intervals=found,
                    required=need,
                )
            )
    return audited


def _answers(
    view: Published, cell: Cell, rooms: dict[str, tuple[float, float]], agree: list[int]
) -> dict[str, Interval]:
    """Answers' rooms as the table's quantities (counted: the agreeing answers)."""
    grouped = {
        "counted": [str(a) for a in agree],
        "not_counted": [str(a) for a in range(len(ANSWERS)) if a not in agree],
    }
    summed = {
        name: (sum(rooms[q][0] for q in qs), sum(rooms[q][1] for q in qs))
        for name, qs in grouped.items()
    }
    return intervals_from_rooms(view, cell, summed, "certified")


__all__ = ["ANSWERS", "answer_cells", "audit_values", "chart_rows", "required_answer_widths"]
