"""Exact Fisher–Freeman–Halton p-value for tables of up to a few hundred answers.

The same network as :mod:`.fisher_network` (Mehta & Patel's, as in FEXACT behind R's
``fisher.test``): a table is built one *stage* (a line along its longer side) at a time, a
partial table is summarised by the sorted row totals still to fill (a *node*), and the
paths reaching a node with the same log-weight (*past*) are merged. What differs is how
the work is laid out, for tables small enough that Python's cost per step, not the number
of steps, is what takes the time:

* every node of a stage is handled at once, in whole-array operations: the stage's
  fillings for all nodes, their children, the children's bounds, the pasts that count, are
  open or drop out;
* log-weights are fixed-point integers (multiples of ``2**-FRACTION_BITS``), so adding
  them is exact and associative: paths that reach a node with mathematically equal
  weights through different orders merge exactly, and a single integer sort groups paths
  by node and past;
* the last free stage is not expanded: for each filling of a node at that stage, the
  pasts that count form a prefix of the node's sorted pasts, found by one binary search,
  and their mass is a prefix sum (the tables of the last stage are never listed);
* the bounds on a node's future with two stages left are exact (the most probable
  completion by greedy allocation, the least probable at a vertex); earlier, the bounds
  of :mod:`.fisher_network` (relaxing to rows alone and to columns alone).

A past whose every completion counts adds ``exp(past) * total`` at once (the total weight
of a node's completions is a multinomial coefficient); one whose best completion does not
count is dropped. Rounding each ``log k!`` to ``2**-36`` moves a table's log-probability
by less than ``cells * 2**-37`` (about 2e-10 for 6 x 4), far inside R's own tolerance
of 3.45e-7 on the comparison and the 1e-9 asked of p-values. Used for tables whose
``log N!`` fits the fixed point with room for node numbers (N up to about 700); larger
ones go to :mod:`.fisher_network`.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .fisher_bounds import log_table_count
from .fisher_budget import DEFAULT_MAX_WORK, Budget, ExactTestTooLarge
from .fisher_network import sort_rows
from .logprob import FloatArray, log_factorials

IntArray = npt.NDArray[np.int64]

#: Fixed-point resolution of the log-weights: ``2**-36`` (~1.5e-11).
FRACTION_BITS = 36
_SCALE = float(2**FRACTION_BITS)
# Largest log N! the fixed point takes: values below 2**48 leave 14 bits for node numbers
# in the 62-bit keys that sort (node, past) pairs.
_MAX_LOG_N = float(2 ** (48 - FRACTION_BITS))
# Bounds are widened by this many units so that rounding (at most half a unit per term,
# and ~1e-13 in the float relaxations) can never make one wrong; wider bounds only leave
# a few more pasts to evaluate exactly.
_SLACK = 4096
# Most (node, past) pairs formed before they are merged; bounds memory to ~100 MB.
_CHUNK = 3_000_000
# Work units charged (see .fisher_budget: ~40 ns each): per filling of a node, per past
# extended or merged, per node bounded, per whole-array step.
# Calibrated on the 6 x 4 tables of bench/bench_stats.py (60-90 million units charged per
# second with the figures tripled, so a third of that).
_FILL_UNITS = 1
_PAST_UNITS = 1.5
_NODE_UNITS = 2
_STEP_UNITS = 15
#: The plain-Python walk takes tables with at most about e**5 (150) tables by
#: :func:`.fisher_bounds.log_table_count`, and those of up to 30 answers with at most
#: about e**12 (three groups or answers) or e**8 (four or more): measured faster there
#: (0.16-1.5 ms against 0.55-2.2 ms); the arrays win beyond.
PLAIN_LOG_TABLES = 5.0


def plain_suits(rows: Sequence[int], cols: Sequence[int], log_tables: float) -> bool:
    """Whether the plain-Python walk is the faster form for a table with these margins."""
    if log_tables <= PLAIN_LOG_TABLES:
        return True
    return sum(rows) <= 30 and log_tables <= (12.0 if min(len(rows), len(cols)) <= 3 else 8.0)


# Work charged per filling in the plain walk (a few microseconds each, with its bounds).
_PLAIN_UNITS = 80


def fits(table: Sequence[Sequence[int]]) -> bool:
    """Whether :func:`stagewise_pvalue` takes this table (small enough for its fixed point)."""
    n = sum(sum(row) for row in table)
    return math.lgamma(n + 1) < _MAX_LOG_N


def _fills(
    states: IntArray, total: int, fixed: IntArray, final: bool
) -> tuple[IntArray, IntArray | None, IntArray, FloatArray]:
    """Every filling of a stage of ``total`` into each node's rows, up to permutation.

    Returns the node of each filling, the children (each node's rows less the filling;
    ``None`` when ``final``), ``sum_i fixed[x_i]`` over the filling (plus
    ``fixed[s_i - x_i]`` when ``final``: the last stage is then fixed too) and how many
    fillings each stands for. A node's rows are sorted, and rows with equal totals are
    interchangeable, so within a run of equal totals only non-increasing fillings are
    listed; the others are counted by the multinomial number of their permutations.
    """
    n, q = states.shape
    rest = np.zeros((n, q + 1), dtype=np.int64)
    rest[:, :q] = np.cumsum(states[:, ::-1], axis=1)[:, ::-1]
    ties = bool((states[:, 1:] == states[:, :-1]).any())
    node = np.arange(n)
    remaining = np.full(n, total, dtype=np.int64)
    acc = np.zeros(n, dtype=np.int64)
    columns: list[IntArray] = []
    prev = np.zeros(n, dtype=np.int64)
    mult = np.ones(n)
    # Length of the current run of equal totals, and of equal values at its end.
    run = np.ones(n, dtype=np.int64)
    same = np.ones(n, dtype=np.int64)
    for i in range(q):
        cap = states[node, i]
        high = np.minimum(cap, remaining)
        tied = cap == states[node, i - 1] if (ties and i > 0) else None
        if tied is not None:
            high = np.where(tied, np.minimum(high, prev), high)
        if i == q - 1:
            # The last part takes what is left, if it fits.
            ok = remaining <= high
            values = remaining[ok]
            node, acc, prev, mult = node[ok], acc[ok], prev[ok], mult[ok]
            columns = [col[ok] for col in columns]
            if ties:
                run, same = run[ok], same[ok]
                tied = tied[ok] if tied is not None else None
        else:
            low = np.maximum(0, remaining - rest[node, i + 1])
            counts = np.maximum(high - low + 1, 0)
            pick = np.repeat(np.arange(node.size), counts)
            offset = np.arange(pick.size) - np.repeat(np.cumsum(counts) - counts, counts)
            values = low[pick] + offset
            node, acc, prev, mult = node[pick], acc[pick], prev[pick], mult[pick]
            remaining = remaining[pick] - values
            columns = [col[pick] for col in columns]
            if ties:
                run, same = run[pick], same[pick]
                tied = tied[pick] if tied is not None else None
        if tied is not None:
            run = np.where(tied, run + 1, 1)
            same = np.where(tied & (values == prev), same + 1, 1)
            # The permutations of a run number run! / prod(equal values!): one factor a step.
            mult = mult * (run / same)
        acc = acc + fixed[values]
        if final:
            acc = acc + fixed[states[node, i] - values]
        columns.append(values)
        prev = values
    if final:
        return node, None, acc, mult
    children = states[node] - np.stack(columns, axis=1)
    return node, children, acc, mult


def _segment_prefix(values: FloatArray, starts: IntArray, ends: IntArray) -> FloatArray:
    """Prefix sums restarting at each segment: ``out[i]`` sums its segment up to ``i - 1``.

    ``out`` has one more slot per segment (segment ``k`` occupies ``starts[k] + k`` to
    ``ends[k] + k``). Each segment is summed on its own, never as a difference of running
    totals across segments, which would lose the small prefixes to rounding.
    """
    out = np.zeros(values.size + starts.size)
    lengths = ends - starts
    if starts.size == 1:
        np.cumsum(values, out=out[1:])
        return out
    # Segments grouped by length (powers of two), each group padded into a matrix.
    group = np.ceil(np.log2(np.maximum(lengths, 1))).astype(np.int64)
    for g in np.unique(group).tolist():
        seg = np.flatnonzero(group == g)
        width = int(lengths[seg].max())
        cols = np.arange(width)
        inside = cols[None, :] < lengths[seg, None]
        where = np.minimum(starts[seg, None] + cols[None, :], values.size - 1)
        block = np.where(inside, values[where], 0.0)
        np.cumsum(block, axis=1, out=block)
        target = (starts[seg] + seg)[:, None] + 1 + cols[None, :]
        out[target[inside]] = block[inside]
    return out


class _Stagewise:
    def __init__(self, table: IntArray, log_tol: float, budget: Budget) -> None:
        x = table if table.shape[0] <= table.shape[1] else table.T
        # Small stages first, as FEXACT does, except with three stages: there the largest
        # first lets the bounds settle more of its many children before the last free
        # stage is listed (3 x 3 tables of 60-100 answers: 1.1-2x faster; with more stages
        # it was slower as often as faster).
        order = np.argsort(x.sum(axis=0), kind="stable")
        x = x[:, order[::-1] if x.shape[1] == 3 else order]
        self.q = x.shape[0]
        self.rows = sorted(int(v) for v in x.sum(axis=1))
        self.stages = [int(v) for v in x.sum(axis=0)]
        self.total = sum(self.rows)
        self.lf = log_factorials(self.total)
        self.fixed = np.rint(self.lf * _SCALE).astype(np.int64)
        self.budget = budget
        # Fixed-point log-weight of each stage of the observed table, and the threshold.
        observed = sum(
            int(self.fixed[c]) - int(self.fixed[x[:, j]].sum()) for j, c in enumerate(self.stages)
        )
        self.threshold = observed + round(log_tol * _SCALE)
        self.base = max(self.rows) + 1
        # Constant turning a path's log-weight into a log-probability.
        self.constant = math.fsum(self.lf[self.rows].tolist()) - float(self.lf[self.total])

    # -- bounds ------------------------------------------------------------------------

    def _min_spread(self, amount: IntArray, caps: IntArray) -> FloatArray:
        """Least ``sum log x_i!`` with ``sum x = amount``, ``x <= caps`` (caps ascending)."""
        lf = self.lf
        rem = amount.copy()
        out = np.zeros(rem.size)
        done = np.zeros(rem.size, dtype=bool)
        q = caps.shape[1]
        for i in range(q):
            left = q - i
            cap = caps[:, i]
            whole = ~done & (cap * left <= rem)
            out += np.where(whole, lf[cap], 0.0)
            rem = np.where(whole, rem - cap, rem)
            spread = ~done & ~whole
            base, extra = np.divmod(rem, left)
            base = np.minimum(base, self.total - 1)
            out += np.where(spread, extra * lf[base + 1] + (left - extra) * lf[base], 0.0)
            done |= spread
        return out

    def _max_spread(self, amount: IntArray, caps: IntArray) -> FloatArray:
        """Largest ``sum log x_i!`` under the same constraints: fill the largest caps first."""
        lf = self.lf
        rem = amount.copy()
        out = np.zeros(rem.size)
        for i in range(caps.shape[1] - 1, -1, -1):
            take = np.minimum(caps[:, i], rem)
            out += lf[take]
            rem -= take
        return out

    def _two_stage(self, states: IntArray, a: int, b: int) -> tuple[IntArray, IntArray]:
        """Exact (largest, least) future with two stages ``a``, ``b`` left, in fixed point.

        The future is ``log a! + log b! - sum_i [log x_i! + log (s_i - x_i)!]`` over
        ``sum x = a``. Each term is convex in ``x_i``: the largest future comes from
        adding units where they cost least, starting from a proportional share that no
        optimum lies below (checked afterwards: no unit can move to a cheaper row); the
        least lies at a vertex, all rows but one full or empty, where the sum is
        ``sum log s_i! - log C(s_j, x_j)`` for the row ``j`` left partial.
        """
        fixed = self.fixed
        m, q = states.shape
        s_total = a + b
        head = int(fixed[a]) + int(fixed[b])
        # Largest future: greedy allocation from below the optimum.
        x = np.maximum(0, (states * max(a - q, 0)) // s_total - 1)
        need = a - x.sum(axis=1)
        rows = np.arange(m)
        with np.errstate(divide="ignore"):
            log_k = np.log(np.arange(self.total + 2, dtype=np.float64))
        while True:
            active = need > 0
            if not active.any():
                break
            cost = np.where(x < states, log_k[x + 1] - log_k[np.maximum(states - x, 1)], np.inf)
            pick = np.argmin(cost, axis=1)
            x[rows[active], pick[active]] += 1
            need -= active
        up = np.where(x < states, log_k[x + 1] - log_k[np.maximum(states - x, 1)], np.inf)
        down = np.where(x > 0, log_k[np.maximum(x, 1)] - log_k[states - x + 1], -np.inf)
        optimal = down.max(axis=1) <= up.min(axis=1) + 1e-12
        best = head - (fixed[x] + fixed[states - x]).sum(axis=1)
        if not optimal.all():  # pragma: no cover - the proportional start is below optimum
            relaxed = self._relaxed(states[~optimal], [a, b])[0]
            best[~optimal] = relaxed
        # Least future: a vertex. For each row j left partial, the others full or empty.
        all_lf = fixed[states].sum(axis=1)
        masks = (np.arange(2**q)[:, None] >> np.arange(q)[None, :]) & 1
        full = states @ masks.T  # total of the full rows, per node and subset
        worst = np.full(m, np.iinfo(np.int64).min)
        for j in range(q):
            sj = states[:, j : j + 1]
            xj = a - full
            ok = (xj >= 0) & (xj <= sj) & (masks[:, j] == 0)[None, :]
            xj = np.clip(xj, 0, sj)
            value = np.where(ok, fixed[xj] + fixed[sj - xj] - fixed[sj], np.iinfo(np.int64).min)
            worst = np.maximum(worst, value.max(axis=1))
        worst = worst + all_lf
        return best + _SLACK, head - worst - _SLACK

    def _relaxed(self, states: IntArray, stages: list[int]) -> tuple[IntArray, IntArray]:
        """(largest, least) future bounds from the row and column relaxations, fixed point."""
        lf = self.lf
        m = states.shape[0]
        head = math.fsum(lf[c] for c in stages)
        t, q = len(stages), states.shape[1]
        # Each stage spread over each node's rows, and each row over the stages, as one
        # batch of (node, stage) and one of (node, row) problems.
        amounts = np.tile(np.asarray(stages, dtype=np.int64), m)
        caps = np.repeat(states, t, axis=0)
        by_stage_min = self._min_spread(amounts, caps).reshape(m, t).sum(axis=1)
        by_stage_max = self._max_spread(amounts, caps).reshape(m, t).sum(axis=1)
        amounts = states.ravel()
        caps = np.tile(np.sort(np.asarray(stages, dtype=np.int64)), (m * q, 1))
        by_row_min = self._min_spread(amounts, caps).reshape(m, q).sum(axis=1)
        by_row_max = self._max_spread(amounts, caps).reshape(m, q).sum(axis=1)
        upper = head - np.maximum(by_stage_min, by_row_min)
        lower = head - np.minimum(by_stage_max, by_row_max)
        return (
            np.ceil(upper * _SCALE).astype(np.int64) + _SLACK,
            np.floor(lower * _SCALE).astype(np.int64) - _SLACK,
        )

    def _bounds(self, k: int, states: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
        """(largest future, least future, log total weight) of nodes at stage ``k``."""
        lf = self.lf
        left = self.stages[k:]
        self.budget.charge(_NODE_UNITS * states.size * len(left) + _STEP_UNITS * 20)
        log_total = lf[states.sum(axis=1)] - lf[states].sum(axis=1)
        if len(left) == 1:
            exact = int(self.fixed[left[0]]) - self.fixed[states].sum(axis=1)
            return exact, exact, log_total
        if len(left) == 2:
            best, worst = self._two_stage(states, left[0], left[1])
        else:
            best, worst = self._relaxed(states, left)
        # Never more than the total weight of all completions.
        cap = np.ceil(log_total * _SCALE).astype(np.int64) + _SLACK
        return np.minimum(best, cap), worst, log_total

    # -- the walk ----------------------------------------------------------------------

    def _key(self, states: IntArray) -> IntArray:
        key = states[:, 0].copy()
        for i in range(1, states.shape[1]):
            key = key * self.base + states[:, i]
        return key

    def pvalue(self) -> float:
        thr = self.threshold
        last = len(self.stages) - 1
        states = np.asarray([self.rows], dtype=np.int64)
        best, _, _ = self._bounds(0, states)
        if best[0] <= thr:  # even the most probable table counts
            return 1.0
        # Frontier: pasts sorted by (node, past); node k's pasts are [starts[k], ends[k]).
        past = np.zeros(1, dtype=np.int64)
        mult = np.ones(1)
        starts = np.zeros(1, dtype=np.int64)
        ends = np.ones(1, dtype=np.int64)
        counted: list[FloatArray] = []
        for k in range(last):
            n_nodes = states.shape[0]
            c = self.stages[k]
            final = k + 1 == last
            # Charged before listing them, on an upper bound of their number (all rows
            # but the last free), so that a hopeless stage is refused before it is built.
            most = np.prod(np.minimum(states[:, :-1], c) + 1, axis=1, dtype=np.float64).sum()
            self.budget.charge(_FILL_UNITS * most * self.q + _STEP_UNITS * 30)
            node, rest, spent, fill_n = _fills(states, c, self.fixed, final)
            weight = int(self.fixed[c]) - spent
            # Pasts scaled by their node's largest, summed within each node.
            top = past[ends - 1]
            scaled = mult * np.exp((past - np.repeat(top, ends - starts)) / _SCALE)
            prefix = _segment_prefix(scaled, starts, ends)
            low = int(past.min())
            span = int(past.max()) - low + 2
            if n_nodes * span >= 2**62:  # pragma: no cover - guarded by fits()
                raise ExactTestTooLarge("the exact test's fixed point cannot hold this table")
            keys = np.repeat(np.arange(n_nodes, dtype=np.int64) * span, ends - starts) + (
                past - low
            )

            def position(
                limit: IntArray,
                _node: IntArray = node,
                _keys: IntArray = keys,
                _low: int = low,
                _span: int = span,
            ) -> IntArray:
                """Index past the last past of ``_node`` that is at most ``limit``."""
                rel = np.clip(limit - _low, -1, _span - 2)
                return np.searchsorted(_keys, _node * _span + rel, side="right")

            if final:
                # Last free stage: each filling fixes the table. Pasts up to the threshold
                # minus the completion's weight count: a prefix of the node's pasts.
                future = weight + int(self.fixed[self.stages[last]])
                at = position(thr - future)
                mass = prefix[at + node] - prefix[starts[node] + node]
                has = mass > 0
                counted.append(
                    np.log(mass[has] * fill_n[has]) + (top[node[has]] + future[has]) / _SCALE
                )
                break
            assert rest is not None
            children = sort_rows(rest)
            child_key = self._key(children)
            _, first, child = np.unique(child_key, return_index=True, return_inverse=True)
            child = child.ravel()
            child_states = children[first]
            best, worst, log_total = self._bounds(k + 1, child_states)
            # Pasts with every completion counting: a prefix; those still open follow.
            n_every = position(thr - weight - best[child])
            n_alive = position(thr - weight - worst[child])
            start = starts[node]
            every_mass = prefix[n_every + node] - prefix[start + node]
            some = every_mass > 0
            counted.append(
                np.log(every_mass[some] * fill_n[some])
                + (top[node[some]] + weight[some]) / _SCALE
                + log_total[child[some]]
            )
            lengths = np.maximum(n_alive - n_every, 0)
            n_open = int(lengths.sum())
            if n_open == 0:
                break
            self.budget.charge(_PAST_UNITS * n_open)
            states, past, mult, starts, ends = self._extend(
                child_states,
                child,
                weight,
                fill_n,
                n_every,
                lengths,
                past,
                mult,
            )
        if not counted:  # pragma: no cover - the observed table itself always counts
            return 0.0
        logs = np.concatenate(counted)
        if logs.size == 0:  # pragma: no cover
            return 0.0
        top_log = float(logs.max())
        log_p = top_log + math.log(float(np.exp(logs - top_log).sum())) + self.constant
        return min(1.0, math.exp(log_p))

    def _extend(
        self,
        child_states: IntArray,
        child: IntArray,
        weight: IntArray,
        fill_n: FloatArray,
        n_every: IntArray,
        lengths: IntArray,
        past: IntArray,
        mult: FloatArray,
    ) -> tuple[IntArray, IntArray, FloatArray, IntArray, IntArray]:
        """The open pasts carried to the children, merged by (child, past)."""
        pieces: list[tuple[IntArray, IntArray, FloatArray]] = []
        total_len = np.cumsum(lengths)
        edge = 0
        n_edges = lengths.size
        while edge < n_edges:
            # Edges whose open pasts together stay within one chunk.
            base = int(total_len[edge - 1]) if edge else 0
            stop = int(np.searchsorted(total_len, base + _CHUNK, side="right"))
            stop = max(stop, edge + 1)
            lens = lengths[edge:stop]
            size = int(lens.sum())
            if size:
                which = np.repeat(np.arange(edge, stop), lens)
                offset = np.arange(size) - np.repeat(np.cumsum(lens) - lens, lens)
                at = n_every[which] + offset
                pieces.append(
                    self._merge(child[which], past[at] + weight[which], mult[at] * fill_n[which])
                )
            edge = stop
        if len(pieces) > 1:
            self.budget.charge(_PAST_UNITS * sum(p[0].size for p in pieces))
            merged = self._merge(
                np.concatenate([p[0] for p in pieces]),
                np.concatenate([p[1] for p in pieces]),
                np.concatenate([p[2] for p in pieces]),
            )
        else:
            merged = pieces[0]
        node, new_past, new_mult = merged
        present, node_starts = np.unique(node, return_index=True)
        node_ends = np.r_[node_starts[1:], node.size]
        return (
            child_states[present],
            new_past,
            new_mult,
            node_starts.astype(np.int64),
            node_ends.astype(np.int64),
        )

    @staticmethod
    def _merge(
        node: IntArray, past: IntArray, mult: FloatArray
    ) -> tuple[IntArray, IntArray, FloatArray]:
        """Sorted by (node, past), equal pairs merged with their counts added."""
        low = int(past.min())
        span = int(past.max()) - low + 1
        if (int(node.max()) + 1) * span < 2**62:
            key = node * span + (past - low)
            order = np.argsort(key)
            key = key[order]
            first = np.ones(key.size, dtype=bool)
            first[1:] = key[1:] != key[:-1]
        else:  # pragma: no cover - pasts spread too widely for one key
            order = np.lexsort((past, node))
            first = np.ones(node.size, dtype=bool)
            n, p = node[order], past[order]
            first[1:] = (n[1:] != n[:-1]) | (p[1:] != p[:-1])
        at = np.flatnonzero(first)
        return node[order][at], past[order][at], np.add.reduceat(mult[order], at)


def stagewise_pvalue(
    table: Sequence[Sequence[int]], log_tol: float, budget: Budget | None = None
) -> float:
    """Exact Fisher–Freeman–Halton p-value of an r × c table with no empty row or column.

    Args:
        table: The observed counts (at least 2 × 2, every row and column total positive,
            and :func:`fits`).
        log_tol: A table counts when ``log P(table) <= log P(observed) + log_tol``.
        budget: Work allowed (by default :data:`.fisher_budget.DEFAULT_MAX_WORK`).

    Returns:
        The total probability of the tables that count.

    Raises:
        ExactTestTooLarge: The budget would be exceeded.
    """
    budget = budget or Budget(DEFAULT_MAX_WORK)
    rows = [sum(r) for r in table]
    cols = [sum(c) for c in zip(*table, strict=True)]
    log_tables = log_table_count(rows, cols)
    if plain_suits(rows, cols, log_tables):
        return _PyStagewise(table, log_tol, budget).pvalue()
    arr = np.asarray(table, dtype=np.int64)
    return _Stagewise(arr, log_tol, budget).pvalue()


# -- the same walk in plain Python, for the smallest tables ---------------------------------
#
# For a table of a few dozen answers the arrays above hold a handful of elements each, and
# NumPy's cost per call (about a microsecond) is all there is: the same walk with Python
# integers and dictionaries is then several times faster. Same fixed point, same bounds
# (exact with two stages left, the relaxations before), same counting rule.


def _py_fills(state: tuple[int, ...], total: int) -> list[tuple[tuple[int, ...], int]]:
    """Fillings of ``total`` into ``state``'s rows up to permutation, with their counts."""
    q = len(state)
    rest = [0] * (q + 1)
    for i in range(q - 1, -1, -1):
        rest[i] = rest[i + 1] + state[i]
    out: list[tuple[tuple[int, ...], int]] = []
    parts = [0] * q

    def walk(i: int, remaining: int, count: int, run: int, same: int) -> None:
        cap = state[i]
        tied = i > 0 and cap == state[i - 1]
        high = min(cap, remaining, parts[i - 1]) if tied else min(cap, remaining)
        if i == q - 1:
            values = range(remaining, remaining + 1) if remaining <= high else range(0)
        else:
            values = range(max(0, remaining - rest[i + 1]), high + 1)
        for v in values:
            parts[i] = v
            if tied:
                # A run's permutations, run! / prod(equal values!), are whole at each step.
                r, s = run + 1, (same + 1 if v == parts[i - 1] else 1)
                c = count * r // s
            else:
                r, s, c = 1, 1, count
            if i == q - 1:
                out.append((tuple(parts), c))
            else:
                walk(i + 1, remaining - v, c, r, s)

    walk(0, total, 1, 1, 1)
    return out


class _PyStagewise:
    def __init__(
        self, table: Sequence[Sequence[int]], log_tol: float, budget: Budget | None = None
    ) -> None:
        self.budget = budget or Budget(DEFAULT_MAX_WORK)
        rows = [list(r) for r in table]
        if len(rows) > len(rows[0]):
            rows = [list(col) for col in zip(*rows, strict=True)]
        col_totals = [sum(col) for col in zip(*rows, strict=True)]
        order = sorted(range(len(col_totals)), key=lambda j: col_totals[j])
        self.stages = [col_totals[j] for j in order]
        self.rows = sorted(sum(r) for r in rows)
        self.total = sum(self.rows)
        # Same fixed point as the array form (log k! from Loader's pieces, rounded).
        exact = log_factorials(self.total)
        self.lf: list[float] = exact.tolist()
        self.fixed = [int(v) for v in np.rint(exact * _SCALE).tolist()]
        fixed = self.fixed
        observed = sum(
            fixed[self.stages[j]] - sum(fixed[r[order[j]]] for r in rows) for j in range(len(order))
        )
        self.threshold = observed + round(log_tol * _SCALE)
        self.constant = math.fsum(self.lf[r] for r in self.rows) - self.lf[self.total]
        self.bound_cache: dict[tuple[int, ...], tuple[int, int, float]] = {}
        self.steps = 0

    def _spread_min(self, amount: int, caps: Sequence[int]) -> float:
        lf, rem, out, n = self.lf, amount, 0.0, len(caps)
        for idx, cap in enumerate(caps):  # caps ascending
            left = n - idx
            if cap * left <= rem:
                out += lf[cap]
                rem -= cap
                continue
            base, extra = divmod(rem, left)
            return out + extra * lf[base + 1] + (left - extra) * lf[base]
        return out

    def _spread_max(self, amount: int, caps: Sequence[int]) -> float:
        lf, rem, out = self.lf, amount, 0.0
        for cap in reversed(caps):  # caps ascending: largest first
            if rem <= 0:
                break
            take = cap if cap < rem else rem
            out += lf[take]
            rem -= take
        return out

    def _bounds(self, k: int, state: tuple[int, ...]) -> tuple[int, int, float]:
        key = (k, *state)
        found = self.bound_cache.get(key)
        if found is not None:
            return found
        self.steps += 1
        lf, fixed = self.lf, self.fixed
        left = self.stages[k:]
        log_total = lf[sum(state)] - math.fsum(lf[v] for v in state)
        if len(left) == 1:
            exact = fixed[left[0]] - sum(fixed[v] for v in state)
            result = (exact, exact, log_total)
        elif len(left) == 2:
            result = (*self._two_stage(state, left[0], left[1]), log_total)
        else:
            head = math.fsum(lf[c] for c in left)
            caps = sorted(left)
            smin = max(
                math.fsum(self._spread_min(c, state) for c in left),
                math.fsum(self._spread_min(r, caps) for r in state),
            )
            smax = min(
                math.fsum(self._spread_max(c, state) for c in left),
                math.fsum(self._spread_max(r, caps) for r in state),
            )
            best = math.ceil((head - smin) * _SCALE) + _SLACK
            best = min(best, math.ceil(log_total * _SCALE) + _SLACK)
            result = (best, math.floor((head - smax) * _SCALE) - _SLACK, log_total)
        self.bound_cache[key] = result
        return result

    def _two_stage(self, state: tuple[int, ...], a: int, b: int) -> tuple[int, int]:
        """Exact (largest, least) future with two stages left (as ``_Stagewise._two_stage``)."""
        fixed = self.fixed
        q = len(state)
        s_total = a + b
        x = [max(0, v * max(a - q, 0) // s_total - 1) for v in state]
        log = math.log
        for _ in range(a - sum(x)):
            pick, cheapest = 0, math.inf
            for i, v in enumerate(state):
                if x[i] < v:
                    cost = log(x[i] + 1) - log(v - x[i])
                    if cost < cheapest:
                        pick, cheapest = i, cost
            x[pick] += 1
        up = min(
            (log(xi + 1) - log(v - xi) for xi, v in zip(x, state, strict=True) if xi < v),
            default=math.inf,
        )
        down = max(
            (log(xi) - log(v - xi + 1) for xi, v in zip(x, state, strict=True) if xi > 0),
            default=-math.inf,
        )
        head = fixed[a] + fixed[b]
        if down <= up + 1e-12:
            best = head - sum(fixed[xi] + fixed[v - xi] for xi, v in zip(x, state, strict=True))
        else:  # pragma: no cover - the proportional start is below the optimum
            best = head - sum(fixed[v] for v in state) + _SLACK
        all_lf = sum(fixed[v] for v in state)
        worst_sum = -(2**62)
        for j, sj in enumerate(state):
            others = state[:j] + state[j + 1 :]
            for mask in range(2 ** (q - 1)):
                full = sum(v for i, v in enumerate(others) if mask >> i & 1)
                xj = a - full
                if 0 <= xj <= sj:
                    value = fixed[xj] + fixed[sj - xj] - fixed[sj]
                    if value > worst_sum:
                        worst_sum = value
        return best + _SLACK, head - (all_lf + worst_sum) - _SLACK

    def pvalue(self) -> float:
        thr, fixed, stages = self.threshold, self.fixed, self.stages
        last = len(stages) - 1
        root = tuple(self.rows)
        if self._bounds(0, root)[0] <= thr:
            return 1.0
        frontier: dict[tuple[int, ...], dict[int, float]] = {root: {0: 1.0}}
        total = 0.0
        exp, bisect = math.exp, bisect_right
        constant = self.constant
        for k in range(last):
            c = stages[k]
            fc = fixed[c]
            final = k + 1 == last
            f_last = fixed[stages[last]]
            new: dict[tuple[int, ...], dict[int, float]] = {}
            for state, pasts in frontier.items():
                keys = sorted(pasts)
                top = keys[-1]
                prefix = [0.0]
                acc = 0.0
                for p in keys:
                    acc += pasts[p] * exp((p - top) / _SCALE)
                    prefix.append(acc)
                fills = _py_fills(state, c)
                self.budget.charge(_PLAIN_UNITS * (len(fills) + len(keys)))
                self.steps += len(fills)
                for fill, count in fills:
                    if final:
                        future = (
                            fc
                            + f_last
                            - sum(fixed[x] + fixed[s - x] for x, s in zip(fill, state, strict=True))
                        )
                        at = bisect(keys, thr - future)
                        if at:
                            total += count * prefix[at] * exp((top + future) / _SCALE + constant)
                        continue
                    weight = fc - sum(fixed[x] for x in fill)
                    child = tuple(sorted(s - x for x, s in zip(fill, state, strict=True)))
                    best, worst, log_total = self._bounds(k + 1, child)
                    every = bisect(keys, thr - weight - best)
                    alive = bisect(keys, thr - weight - worst)
                    if every:
                        total += (
                            count
                            * prefix[every]
                            * exp((top + weight) / _SCALE + log_total + constant)
                        )
                    if alive > every:
                        into = new.setdefault(child, {})
                        for p in keys[every:alive]:
                            v = p + weight
                            into[v] = into.get(v, 0.0) + pasts[p] * count
                        self.steps += alive - every
            if not new:
                break
            frontier = new
        return min(1.0, total)
