"""One decision, for a whole wave, of which cells are withheld; every output reads it.

Per table row (and for the respondents per group) the wave's cells form a trust x role
table whose margins are printed elsewhere: the national report prints the role totals,
the benchmarks the trust totals, each trust's report its own role cells. Suppressing each
output on its own leaves a hidden cell equal to "national minus the other trusts", so the
decision is taken once over the whole table, as statistical offices protect a table with
margins (tau-argus, R's sdcTable):

1. The margins keep the rule they had (`suppression.suppress` along the national role
   line and along the trust line), so published national tables do not change unless a
   cell in them is itself small.
2. Primary suppression: a cell with fewer than `threshold` valid answers (and anyone in
   it), and every cell of a group whose column a trust report hides for its size.
3. Secondary suppression: every line whose total is printed and holds a withheld cell
   must hold at least two, together at least `threshold`, and some answers counted and
   some not where a small cell among them needs its share uncertain; the cheapest cells
   (fewest answers) are added until that holds everywhere, preferring cells whose
   crossing line already holds a withheld cell (closing a rectangle rather than opening a
   new line). The margins' own rule asks the same of the withheld totals together.
4. The pattern is then audited (`intervals`): where a withheld small cell can still be
   narrowed below `threshold` by linear programming over everything printed, the cheapest
   cell of the line through it that limits it most (its trust's or its role's) is
   withheld too, and the audit runs again.

Cells of respondents without a trust or without a role are never printed; they count as
withheld (and as small when they are). A trust whose report hides a group hides its
empty groups too (the report lists every role), so it does not name who is there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from sharedground.analysis.disclosure.cells import WaveCells, wave_cells
from sharedground.analysis.disclosure.intervals import Interval, Published, intervals
from sharedground.analysis.source import WaveData
from sharedground.analysis.suppression import suppress

BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Rounds of audit-driven secondary suppression before giving up (the audit then fails).
ROUNDS = 6


@dataclass
class TableDecision:
    """What one table of the wave withholds (index -1 of each axis: no trust / no role)."""

    withheld: BoolArray  # (T+1) x (R+1)
    primary: BoolArray  # (T+1) x (R+1): the cells withheld for being small
    roles: BoolArray  # (R,) national role totals withheld
    trusts: BoolArray  # (T,) trust totals withheld
    overall: bool  # the national total withheld

    @property
    def secondary(self) -> BoolArray:
        return self.withheld & ~self.primary


@dataclass
class Decision:
    """The cells withheld from every output of a wave (`tables[i]` is row spec i)."""

    cells: WaveCells
    threshold: int
    respondents: TableDecision
    tables: list[TableDecision]

    def trust_index(self, trust: str) -> int:
        return self.cells.trusts.index(trust)

    def published(self, index: int | None) -> Published:
        """Table `index` (None: respondents) as a reader of every output sees it."""
        return published_table(self.cells, self, index)

    def view(self, trust: str | None) -> DisclosureView:
        """What `analyse` withholds: nationally by role (None) or in one trust by role."""
        return DisclosureView(self, None if trust is None else self.trust_index(trust))


@dataclass(frozen=True)
class DisclosureView:
    """The decision as one analysis by role reads it (the nation's or one trust's)."""

    decision: Decision
    trust: int | None

    def _roles(self, group_ids: list[str]) -> list[int]:
        roles = self.decision.cells.roles
        return [roles.index(g) for g in group_ids]

    def row(self, index: int, group_ids: list[str]) -> tuple[BoolArray, bool]:
        """Withheld groups and whether the overall figure is withheld, for row `index`."""
        table = self.decision.tables[index]
        columns = self._roles(group_ids)
        if self.trust is None:
            return table.roles[columns].copy(), table.overall
        return table.withheld[self.trust, columns].copy(), bool(table.trusts[self.trust])

    def sizes(self, group_ids: list[str]) -> BoolArray:
        """Groups whose number of respondents is withheld."""
        table = self.decision.respondents
        columns = self._roles(group_ids)
        if self.trust is None:
            return table.roles[columns].copy()
        return table.withheld[self.trust, columns].copy()


def _margins(
    valid: IntArray, respondents: IntArray, threshold: int, counted: IntArray | None = None
) -> tuple[BoolArray, BoolArray, bool]:
    """The role totals, trust totals and national total withheld, by the outputs' own rules
    (`analyse` by role and `benchmark` call `suppress` the same way, with the counts)."""
    role_totals = valid.sum(axis=0)[:-1]
    role_counted = None if counted is None else counted.sum(axis=0)[:-1]
    present = respondents.sum(axis=0)[:-1] > 0
    roles = np.zeros(len(role_totals), dtype=bool)
    overall_roles = False
    if present.any():
        hidden, overall_roles = suppress(
            role_totals[present],
            int(valid.sum()),
            threshold,
            None if role_counted is None else role_counted[present],
        )
        roles[present] = hidden
    trust_totals = valid.sum(axis=1)[:-1]
    trust_counted = None if counted is None else counted.sum(axis=1)[:-1]
    trusts = np.zeros(len(trust_totals), dtype=bool)
    overall_trusts = False
    if len(trust_totals):
        trusts, overall_trusts = suppress(
            trust_totals, int(trust_totals.sum()), threshold, trust_counted
        )
    return roles, trusts, bool(overall_roles or overall_trusts)


def published_table(cells: WaveCells, decision: Decision, index: int | None) -> Published:
    """A table of the wave with the decision applied, as the audit reads it."""
    n_trusts = len(cells.trusts)
    people = decision.respondents
    if index is None:
        table = people
        quantities = {"respondents": cells.respondents}
        # Trust reports print each trust's respondents and how many gave no role.
        rows_printed = np.append(np.ones(n_trusts, dtype=bool), False)
        cap = np.full(cells.shape, -1, dtype=np.int64)
    else:
        table = decision.tables[index]
        counted, valid = cells.counted[index], cells.valid[index]
        quantities = {"counted": counted, "not_counted": valid - counted}
        rows_printed = np.append(~table.trusts, False)
        # Where a cell's respondents are printed, its valid answers cannot exceed them.
        cap = np.where(people.withheld, -1, cells.respondents).astype(np.int64)
    cols_printed = np.append(~table.roles, index is None)
    return Published(
        quantities=quantities,
        withheld=table.withheld,
        rows_printed=rows_printed,
        cols_printed=cols_printed,
        grand_printed=not table.overall,
        real_rows_printed=not table.overall,
        cap=cap,
    )


def required_widths(
    table: Published, primary: BoolArray, threshold: int
) -> dict[tuple[int, int], dict[str, float]]:
    """The width each withheld small cell's interval must reach.

    Its valid answers (or respondents) must be uncertain by at least `threshold`, the
    rule for a frequency table; a trust report prints its number of respondents, so in a
    trust of three a role's respondents can be uncertain by three at most, and must be.
    Its counts (those counted and those not) must not be determined exactly, unless the
    printed totals alone determine them (nobody in a role nationally agreed: every trust's
    cell of that role is 0, which no suppression pattern can hide).

    The same holds for the total: with only the printed totals known, a cell's counted
    answers lie between 0 and the smaller of its row's and its column's printed totals, and
    so do those not counted; no pattern can make the total wider than those two ranges
    together. A trust of five whose one "rotating" answer came from a clinical director,
    where no chief executive in the country gave it, pins its chief executive's answers to
    0-4 by its printed totals alone; the demo wave has 68 such cells (width 3-4 < 5). They
    need exactly that width, no less: the audit still fails a pattern that gives less.
    """
    required: dict[tuple[int, int], dict[str, float]] = {}
    multiple = len(table.quantities) > 1
    for a, b in np.argwhere(primary & table.withheld):
        cell = (int(a), int(b))
        need: dict[str, float] = {}
        reachable = 0.0
        for name, values in table.quantities.items():
            ceiling = float("inf")
            if table.rows_printed[a]:
                ceiling = min(ceiling, float(values[a, :].sum()))
            if table.cols_printed[b]:
                ceiling = min(ceiling, float(values[:, b].sum()))
            need[name] = min(1.0 if multiple else float(threshold), ceiling)
            reachable += ceiling
        if multiple:
            need["total"] = min(float(threshold), reachable)
        required[cell] = need
    return required


def _lonely(values: IntArray, withheld: BoolArray, line: tuple[Any, Any], threshold: int) -> bool:
    hidden = withheld[line]
    if not hidden.any():
        return False
    return bool(hidden.sum() < 2 or int(values[line][hidden].sum()) < threshold)


def line_rule(
    values: IntArray,
    withheld: BoolArray,
    eligible: BoolArray,
    rows_printed: BoolArray,
    cols_printed: BoolArray,
    threshold: int,
    parts: Sequence[tuple[IntArray, BoolArray]] = (),
) -> None:
    """Withhold the cheapest cells until no printed line holds a lone or small withheld sum.

    The secondary suppression of a trust x role table, the survey's here and the text
    tables' in `text.disclosure` (changes `withheld` in place).

    Rows (trusts) are settled one cell at a time, preferring a cell whose column already
    holds a withheld cell. Columns (roles, few) are settled together: the lone columns
    all take their partner from one other trust, the one for which that costs least
    (counting the further cell its row then needs), so a trust whose every group is small
    is paired with the cheapest whole trust rather than spread over the largest.

    `parts` are the quantities a cell's valid answers split into (those counted and those
    not), each with the cells whose share must stay uncertain (`_needs`). A printed line
    whose withheld cells hold none of a part gives each of them as 0 however many they
    are (a trust's 2 chief executives withheld with its 6 clinical directors, none of
    whom chose the option); such a line takes its cheapest cell that holds some.
    """
    while True:
        changed = False
        short_rows = _short(parts, withheld, rows_printed, axis=1)
        for t in np.flatnonzero(rows_printed):
            line = (t, slice(None))
            lonely = _lonely(values, withheld, line, threshold)
            if not lonely and not short_rows[t]:
                continue
            candidates = np.flatnonzero(eligible[t] & ~withheld[t])
            if short_rows[t]:
                holding = _holding(candidates, [p[t] for p in short_rows[t]])
                candidates = holding if len(holding) or not lonely else candidates
            if not len(candidates):
                continue
            settled = ~cols_printed[candidates] | withheld[:, candidates].any(axis=0)
            pool = candidates[settled] if settled.any() else candidates
            withheld[t, pool[np.argmin(values[t][pool])]] = True
            changed = True
        lone = [
            int(r)
            for r in np.flatnonzero(cols_printed)
            if _lonely(values, withheld, (slice(None), r), threshold)
        ]
        if lone:
            best: tuple[float, int, list[int]] | None = None
            for a in range(withheld.shape[0]):
                take = [r for r in lone if eligible[a, r] and not withheld[a, r]]
                if not take:
                    continue
                cost = float(sum(int(values[a, r]) for r in take))
                if rows_printed[a] and int(withheld[a].sum()) + len(take) < 2:
                    others = np.flatnonzero(eligible[a] & ~withheld[a])
                    others = np.array([r for r in others if r not in take])
                    cost += float(values[a][others].min()) if len(others) else float("inf")
                # Cover as many lone columns as possible, then as cheaply as possible.
                key = (-len(take), cost)
                if best is None or key < (-len(best[2]), best[0]):
                    best = (cost, a, take)
            if best is not None:
                for r in best[2]:
                    withheld[best[1], r] = True
                changed = True
        short_cols = _short(parts, withheld, cols_printed, axis=0)
        for col in np.flatnonzero(cols_printed):
            if not short_cols[col]:
                continue
            candidates = np.flatnonzero(eligible[:, col] & ~withheld[:, col])
            candidates = _holding(candidates, [p[:, col] for p in short_cols[col]])
            if not len(candidates):
                continue
            # Closing a rectangle: a trust that already withholds a cell, if any.
            busy = np.asarray(withheld[candidates].any(axis=1))
            pool = candidates[busy] if busy.any() else candidates
            withheld[pool[np.argmin(values[pool, col])], col] = True
            changed = True
        if not changed:
            return


def _needs(
    quantities: dict[str, IntArray],
    primary: BoolArray,
    rows_printed: BoolArray,
    cols_printed: BoolArray,
) -> list[tuple[IntArray, BoolArray]]:
    """Per quantity of a table with several (a row's counted and not counted), the small
    cells whose share the audit asks to be uncertain: all of them, but where a printed
    line through the cell holds none of it (then it is 0, and printed as such)."""
    if len(quantities) < 2:
        return []
    out = []
    for values in quantities.values():
        none_in_row = rows_printed & (values.sum(axis=1) == 0)
        none_in_col = cols_printed & (values.sum(axis=0) == 0)
        out.append((values, primary & ~none_in_row[:, None] & ~none_in_col[None, :]))
    return out


def _short(
    parts: Sequence[tuple[IntArray, BoolArray]],
    withheld: BoolArray,
    printed: BoolArray,
    axis: int,
) -> list[list[IntArray]]:
    """Per line along `axis` (1: rows, 0: columns), the parts it is short of: printed,
    holding a withheld cell that needs the part, and none of it among its withheld cells."""
    short: list[list[IntArray]] = [[] for _ in range(len(printed))]
    for values, needs in parts:
        held = np.where(withheld, values, 0).sum(axis=axis)
        wanted = (needs & withheld).any(axis=axis)
        for line in np.flatnonzero(printed & wanted & (held == 0)):
            short[line].append(values)
    return short


def _holding(candidates: npt.NDArray[np.intp], parts: list[IntArray]) -> npt.NDArray[np.intp]:
    """The candidates holding some of every part, else some of the first."""
    both = candidates
    for values in parts:
        both = both[values[both] > 0]
    if len(both) or not parts:
        return both
    return candidates[parts[0][candidates] > 0]


def complement_cell(
    view: Published,
    withheld: BoolArray,
    eligible: BoolArray,
    values: IntArray,
    cell: tuple[int, int],
    found: dict[str, Interval],
    need: dict[str, float],
    threshold: int,
) -> tuple[int, int] | None:
    """The cheapest further cell to withhold for a cell the audit found too narrow.

    The partner each audit-driven round adds, the survey's here and the text tables' in
    `text.disclosure`; None when no cell is left to withhold.

    First its own row and column; when those are all withheld, the rows and columns of
    the withheld cells it trades with (closing a rectangle). Cells that hold some of each
    quantity found too narrow, and at least `threshold` answers, are preferred: a
    complement with nothing to give widens nothing.
    """
    t, r = cell
    free = eligible & ~withheld
    ring = np.zeros(withheld.shape, dtype=bool)
    ring[t, :] = True
    ring[:, r] = True
    candidates = free & ring
    if not candidates.any():
        near_rows = withheld[:, r].copy()
        near_cols = withheld[t, :].copy()
        candidates = free & (near_rows[:, None] | near_cols[None, :])
    if not candidates.any():
        return None
    short = [name for name, width in need.items() if found[name].width < width and name != "total"]
    good = candidates & (values >= threshold)
    for name in short:
        good &= view.quantities[name] > 0
    pool = good if good.any() else candidates
    narrow = [name for name, width in need.items() if found[name].width < width]
    binding = _binding(view, withheld, cell, narrow)
    if binding is not None and (pool & binding).any():
        pool = pool & binding
    options = np.argwhere(pool)
    best = options[np.argmin(values[pool])]
    return int(best[0]), int(best[1])


def _binding(
    view: Published, withheld: BoolArray, cell: tuple[int, int], short: list[str]
) -> BoolArray | None:
    """The printed line through `cell` that limits it most in the quantities found too
    narrow (None: neither is printed, or they limit it alike).

    On a printed line the cell rises only as far as the line's other withheld cells can
    fall (their values), and falls only as far as they can rise (up to their printed
    respondents); the smaller of the two lines' spans bounds what the audit found. Where a
    trust's other withheld cells hold none of the answer, or are full (a partner of 8
    valid answers from 8 respondents), a partner in the cell's column, however cheap,
    widens nothing: the partner must come from the row.
    """
    if not short:
        return None
    t, r = cell
    total = view.total
    slack = np.where(view.cap >= 0, (view.cap - total).astype(float), np.inf)
    lines = ((t, slice(None)), (slice(None), r))
    spans = []
    for line, own, shown in (
        (lines[0], r, bool(view.rows_printed[t])),
        (lines[1], t, bool(view.cols_printed[r])),
    ):
        if not shown:
            spans.append(float("inf"))
            continue
        others = withheld[line].copy()
        others[own] = False
        span = 0.0
        for name in short:
            values = total if name == "total" else view.quantities[name]
            down = float(values[line][others].sum())
            up = float(slack[line][others].sum())
            span += min(float(values[cell]), up) + min(float(slack[cell]), down)
        spans.append(span)
    if spans[0] == spans[1]:
        return None
    mask = np.zeros(withheld.shape, dtype=bool)
    mask[lines[int(np.argmin(spans))]] = True
    return mask


def _complete(
    cells: WaveCells,
    decision: Decision,
    index: int | None,
    values: IntArray,
    eligible: BoolArray,
    threshold: int,
) -> None:
    """Secondary suppression for one table: the line rule, then audit-driven rounds."""
    table = decision.respondents if index is None else decision.tables[index]
    for _ in range(ROUNDS):
        view = published_table(cells, decision, index)
        parts = _needs(view.quantities, table.primary, view.rows_printed, view.cols_printed)
        line_rule(
            values,
            table.withheld,
            eligible,
            view.rows_printed,
            view.cols_printed,
            threshold,
            parts,
        )
        view = published_table(cells, decision, index)
        required = required_widths(view, table.primary, threshold)
        found = intervals(view, list(required), required, solve=False)
        failing = [
            cell
            for cell, need in required.items()
            if any(found[cell][name].width < width for name, width in need.items())
        ]
        if not failing:
            return
        added = False
        for cell in failing:
            pick = complement_cell(
                view, table.withheld, eligible, values, cell, found[cell], required[cell], threshold
            )
            if pick is not None:
                table.withheld[pick] = True
                added = True
        if not added:
            return


def decide(data: WaveData, threshold: int | None = None) -> Decision:
    """Decide, once for the whole wave, which cells every output withholds."""
    threshold = data.suppression_threshold if threshold is None else threshold
    cells = wave_cells(data)
    return decide_cells(cells, threshold)


def decide_cells(cells: WaveCells, threshold: int) -> Decision:
    """`decide` on cells already counted."""
    people = cells.respondents
    occupied = people > 0
    real = np.zeros(cells.shape, dtype=bool)
    real[:-1, :-1] = True
    unprinted = occupied & ~real
    if threshold <= 0:
        empty = np.zeros(cells.shape, dtype=bool)
        none_r = np.zeros(len(cells.roles), dtype=bool)
        none_t = np.zeros(len(cells.trusts), dtype=bool)
        return Decision(
            cells,
            threshold,
            TableDecision(unprinted.copy(), empty.copy(), none_r, none_t, False),
            [
                TableDecision(unprinted.copy(), empty.copy(), none_r, none_t, False)
                for _ in cells.specs
            ],
        )
    roles, _, _ = _margins(people, people, threshold)
    # Respondents: trust reports print each trust's total and its "no role" count; the
    # cells of respondents without a trust are printed nowhere.
    primary = occupied & (people < threshold)
    primary[:-1, -1] = False
    withheld = primary.copy()
    withheld[-1, :] |= occupied[-1, :]
    respondents = TableDecision(
        withheld, primary, roles, np.zeros(len(cells.trusts), dtype=bool), False
    )
    decision = Decision(cells, threshold, respondents, [])
    _complete(cells, decision, None, people, occupied & real & ~withheld, threshold)

    # A trust report that hides some groups lists every role, present or not (its absent
    # groups are withheld like the small ones): otherwise a trust of one respondent would
    # name that person's role by the one group it lists.
    hiding: BoolArray = np.asarray(respondents.withheld[:-1, :-1].any(axis=1))
    respondents.withheld[:-1, :-1] |= hiding[:, None] & ~occupied[:-1, :-1]
    hidden_groups = respondents.withheld & real
    for i in range(len(cells.specs)):
        valid = cells.valid[i]
        roles_i, trusts_i, overall_i = _margins(valid, people, threshold, cells.counted[i])
        primary_i = occupied & (valid < threshold)
        withheld_i = primary_i | hidden_groups | unprinted
        decision.tables.append(TableDecision(withheld_i, primary_i, roles_i, trusts_i, overall_i))
        _complete(cells, decision, i, valid, occupied & real, threshold)
    return decision


__all__ = [
    "Decision",
    "DisclosureView",
    "Interval",
    "TableDecision",
    "complement_cell",
    "decide",
    "decide_cells",
    "line_rule",
    "published_table",
    "required_widths",
]
