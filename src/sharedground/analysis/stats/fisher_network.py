"""Exact Fisher–Freeman–Halton p-value for any r × c table (network algorithm).

The tables with the observed margins are built one *stage* (a column of the table, taken
along its longer side) at a time; a partial table is summarised by the multiset of row
totals still to be filled, so partial tables that leave the same multiset share one node
(Mehta & Patel's network algorithm, as in FEXACT, the code behind R's ``fisher.test``).
Each path through the network is one table, and its log-probability is the sum of the
log-multinomial coefficients of its columns plus a constant::

    log P(T) = sum_j [log c_j! - sum_i log x_ij!] + sum_i log r_i! - log N!

At each node the paths that arrived with the same log-weight ("past") are merged, and
the node's unfilled part (its "future") is bounded:

* the total weight of all completions is known in closed form,
  ``sum exp(future) = (sum of remaining rows)! / prod(remaining rows!)`` (a multinomial
  Vandermonde identity), so a past whose best completion still counts adds
  ``exp(past) * total`` at once;
* a past whose least probable completion is already above the threshold adds nothing;
* only the remaining pasts are extended to the next stage.

The bounds come from relaxing the table to its columns alone and to its rows alone,
where the most and least probable fillings are found greedily (balanced or concentrated
counts). The last stage is determined by the others, so paths are evaluated exactly one
stage before it. All arithmetic is in log space on log-factorials; merging only ever
joins pasts that are bit-for-bit equal, so no approximation enters.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Hashable, Sequence

import numpy as np
import numpy.typing as npt

from .fisher_budget import DEFAULT_MAX_WORK, Budget, ExactTestTooLarge
from .logprob import FloatArray, log_factorials

IntArray = npt.NDArray[np.int64]

# Limit on the distinct paths held between two stages (24 bytes each), beside the work
# budget (:mod:`.fisher_budget`): they keep a hopeless request (say an exact test on a
# 4 x 5 table with hundreds of people) from running for long or exhausting memory; the
# caller then reports that the exact test was not feasible.
_MAX_HELD = 8_000_000
_MERGE_EVERY = 4_000_000
#: Pasts closer than this (in log-probability) are merged; see :meth:`_Network._compact`.
PAST_QUANTUM = 2.0**-36
# Work units per step of the heap in _two_stage_min (see .fisher_budget: ~40 ns a unit).
_HEAP_UNITS = 40


def _compositions(total: int, caps: Sequence[int]) -> IntArray:
    """All vectors ``x`` with ``0 <= x_i <= caps[i]`` and ``sum(x) = total``, one per row."""
    q = len(caps)
    rest = np.cumsum(np.asarray(caps[::-1], dtype=np.int64))[::-1]  # caps of parts i..q-1
    parts = np.zeros((1, 0), dtype=np.int64)
    remaining = np.array([total], dtype=np.int64)
    for i in range(q):
        later = int(rest[i + 1]) if i + 1 < q else 0
        # x_i must leave no more than the later parts can take, and fit its own cap.
        low = np.maximum(0, remaining - later)
        high = np.minimum(caps[i], remaining)
        counts = np.maximum(high - low + 1, 0)
        parent = np.repeat(np.arange(parts.shape[0]), counts)
        # Offsets 0..count-1 within each parent's block.
        starts = np.cumsum(counts) - counts
        offset = np.arange(parent.size) - np.repeat(starts, counts)
        values = low[parent] + offset
        parts = np.concatenate([parts[parent], values[:, None]], axis=1)
        remaining = remaining[parent] - values
    return parts


def sort_rows(a: IntArray) -> IntArray:
    """Sort each row ascending (odd-even transposition: fast for the few columns here)."""
    out = a.copy()
    q = out.shape[1]
    for step in range(q):
        for i in range(step % 2, q - 1, 2):
            low = np.minimum(out[:, i], out[:, i + 1])
            np.maximum(out[:, i], out[:, i + 1], out=out[:, i + 1])
            out[:, i] = low
    return out


def _count_fillings(total: int, caps: Sequence[int]) -> int:
    """Number of vectors :func:`_compositions` would list (by polynomial multiplication)."""
    ways = np.zeros(total + 1)
    ways[0] = 1.0
    for cap in caps:
        # Multiply by 1 + z + ... + z^cap, truncated at z^total (floats: only a size).
        cum = np.cumsum(ways)
        shifted = np.zeros(total + 1)
        if cap + 1 <= total:
            shifted[cap + 1 :] = cum[: total - cap]
        ways = cum - shifted
    return int(min(ways[total], 1e18))


class _Registry:
    """The child nodes met at one stage: their states and bounds, by number."""

    def __init__(self, network: _Network, stage: int) -> None:
        self.network = network
        self.stage = stage
        self.index: dict[Hashable, int] = {}
        self._known = np.zeros(0, dtype=np.int64)  # integer keys met so far, sorted
        self._known_ids = np.zeros(0, dtype=np.int64)
        self.states: list[tuple[int, ...]] = []
        self._bounds = np.empty((64, 3))

    def lookup(self, keys: list[Hashable] | IntArray, rows: IntArray) -> IntArray:
        """Number of each child node, registering (and bounding) the new ones.

        Integer keys (the usual case) are looked up all at once in a sorted array; only
        the children never met before go through Python, one by one, to be bounded.
        """
        if not isinstance(keys, np.ndarray):  # pragma: no cover - very wide tables only
            index = self.index
            out = []
            for j, key in enumerate(keys):
                at = index.get(key)
                if at is None:
                    at = index[key] = self._register(rows[j])
                out.append(at)
            return np.array(out, dtype=np.int64)
        known, ids = self._known, self._known_ids
        where = np.minimum(np.searchsorted(known, keys), max(known.size - 1, 0))
        found = known[where] == keys if known.size else np.zeros(keys.size, dtype=bool)
        result = np.empty(keys.size, dtype=np.int64)
        result[found] = ids[where[found]]
        missing = np.flatnonzero(~found)
        if missing.size:
            new_keys, first = np.unique(keys[missing], return_index=True)
            new_ids = np.array(
                [self._register(rows[j]) for j in missing[first].tolist()], dtype=np.int64
            )
            result[missing] = new_ids[np.searchsorted(new_keys, keys[missing])]
            slots = np.searchsorted(known, new_keys)
            self._known = np.insert(known, slots, new_keys)
            self._known_ids = np.insert(ids, slots, new_ids)
        return result

    def _register(self, row: IntArray) -> int:
        at = len(self.states)
        state = tuple(row.tolist())
        self.states.append(state)
        if at >= self._bounds.shape[0]:
            grown = np.empty((2 * self._bounds.shape[0], 3))
            grown[:at] = self._bounds[:at]
            self._bounds = grown
        # Bounding a node costs about as much as a few hundred units of work.
        self.network._charge(200 + 5 * self.network.stages[self.stage])
        self._bounds[at] = self.network._bounds(self.stage, state)
        return at

    def bounds(self, child: IntArray) -> tuple[FloatArray, FloatArray, FloatArray]:
        """(upper bound, lower bound, log total weight) of the futures of each child."""
        b = self._bounds[child]
        return b[:, 0], b[:, 1], b[:, 2]


class _Network:
    def __init__(self, table: npt.NDArray[np.int64], log_tol: float, budget: Budget) -> None:
        # Stages run along the longer side so that nodes (multisets of row totals) are short.
        x = table if table.shape[0] <= table.shape[1] else table.T
        x = x[:, np.argsort(x.sum(axis=0), kind="stable")]  # small stages first, like FEXACT
        self.rows = [int(v) for v in x.sum(axis=1)]
        self.stages = [int(v) for v in x.sum(axis=0)]
        self.total = sum(self.rows)
        self.lf = log_factorials(self.total)
        lf = self.lf
        self.lf_list: list[float] = lf.tolist()
        observed = math.fsum(
            lf[c] - math.fsum(lf[x[:, j]].tolist()) for j, c in enumerate(self.stages)
        )
        self.constant = math.fsum(lf[self.rows].tolist()) - lf[self.total]
        self.threshold = observed + log_tol
        self.budget = budget
        self.key_base = max(self.rows) + 1
        # Sum of log c_j! over the stages from k on.
        self.stage_lf_tail = [
            math.fsum(self.lf_list[c] for c in self.stages[k:]) for k in range(len(self.stages))
        ]

    # -- bounds on the future ----------------------------------------------------------

    def _min_spread(self, amount: int, caps: Sequence[int]) -> float:
        """Least ``sum log x_i!`` over ``x`` with ``sum x = amount``, ``x_i <= caps_i``.

        ``log x!`` is convex, so the counts are spread as evenly as the caps allow.
        """
        lf = self.lf_list
        rem = amount
        out = 0.0
        ordered = sorted(caps)
        n = len(ordered)
        for idx, cap in enumerate(ordered):
            left = n - idx
            if cap * left <= rem or cap <= rem // left:
                out += lf[cap]
                rem -= cap
                continue
            base, extra = divmod(rem, left)
            return out + extra * lf[base + 1] + (left - extra) * lf[base]
        return out

    def _max_spread(self, amount: int, caps: Sequence[int]) -> float:
        """Largest ``sum log x_i!`` under the same constraints: fill the largest caps first."""
        lf = self.lf_list
        rem = amount
        out = 0.0
        for cap in sorted(caps, reverse=True):
            if rem <= 0:
                break
            take = cap if cap < rem else rem
            out += lf[take]
            rem -= take
        return out

    def _two_stage_min(self, amount: int, state: Sequence[int]) -> float:
        """Least ``sum_i log x_i! + log (s_i - x_i)!`` over ``x`` with ``sum x = amount``.

        Each term is convex in ``x_i``, so adding one unit at a time where it costs least
        (``log(x_i + 1) - log(s_i - x_i)``) reaches the optimum.
        """
        lf = self.lf_list
        x = [0] * len(state)
        heap = [(-math.log(s), i) for i, s in enumerate(state) if s > 0]
        heapq.heapify(heap)
        for _ in range(amount):
            _, i = heapq.heappop(heap)
            x[i] += 1
            if x[i] < state[i]:
                heapq.heappush(heap, (math.log(x[i] + 1) - math.log(state[i] - x[i]), i))
        return math.fsum(lf[xi] + lf[s - xi] for xi, s in zip(x, state, strict=True))

    def _bounds(self, k: int, state: tuple[int, ...]) -> tuple[float, float, float]:
        """(upper bound, lower bound, log total weight) of the futures of a node."""
        stages = self.stages[k:]
        lf = self.lf_list
        log_total = lf[sum(state)] - math.fsum(lf[v] for v in state)
        if len(stages) == 1:
            return log_total, log_total, log_total
        head = self.stage_lf_tail[k]
        upper = math.inf
        if len(stages) == 2:
            # With two stages left the most probable completion is found exactly, one unit
            # at a time through a heap: about a microsecond per unit, charged as such (with
            # counts in the hundreds of thousands this, not the paths, is the cost).
            self._charge(_HEAP_UNITS * stages[0])
            upper = head - self._two_stage_min(stages[0], state)
        by_stage_min = math.fsum(self._min_spread(c, state) for c in stages)
        by_row_min = math.fsum(self._min_spread(r, stages) for r in state)
        by_stage_max = math.fsum(self._max_spread(c, state) for c in stages)
        by_row_max = math.fsum(self._max_spread(r, stages) for r in state)
        upper = min(upper, head - max(by_stage_min, by_row_min))
        lower = head - min(by_stage_max, by_row_max)
        # Never let the relaxations claim more than the exact total weight allows.
        return min(upper, log_total), lower, log_total

    # -- the walk through the network ---------------------------------------------------

    def _daughters(
        self, k: int, state: tuple[int, ...]
    ) -> tuple[list[Hashable] | IntArray, IntArray, FloatArray, FloatArray]:
        """Distinct (child node, stage log-weight) pairs reachable from a node.

        Returns a hashable key per child node, the child states (one sorted row each), the
        stage log-weights ``log c! - sum log x_i!`` and how many stage fillings give each
        pair.
        """
        c = self.stages[k]
        fills = _compositions(c, state)
        children = sort_rows(np.asarray(state, dtype=np.int64)[None, :] - fills)
        # Sorting each filling makes equal multisets add up in the same order, so their
        # weights are bit-for-bit equal and merge below.
        logs = self.lf[sort_rows(fills)]
        total = logs[:, 0].copy()
        for col in range(1, logs.shape[1]):
            total += logs[:, col]
        weights = self.lf[c] - total
        bits = weights.view(np.int64)
        # The same base for every node, so that a key means the same state everywhere.
        base = self.key_base
        if base ** len(state) < 2**62:
            # One integer per child state (mixed radix).
            key = children[:, 0].copy()
            for col in range(1, children.shape[1]):
                key = key * base + children[:, col]
            order = np.lexsort((bits, key))
            key, bits_sorted = key[order], bits[order]
            first = np.ones(key.size, dtype=bool)
            first[1:] = (key[1:] != key[:-1]) | (bits_sorted[1:] != bits_sorted[:-1])
            starts = np.flatnonzero(first)
            picked = order[starts]
            keys: list[Hashable] | IntArray = key[starts]
        else:  # pragma: no cover - only for very wide tables with large margins
            keyed = np.concatenate([children, bits[:, None]], axis=1)
            _, picked, inverse = np.unique(keyed, axis=0, return_index=True, return_inverse=True)
            starts = np.arange(picked.size)
            keys = list(map(tuple, children[picked].tolist()))
        counts = (
            np.bincount(np.repeat(np.arange(starts.size), np.diff(np.r_[starts, fills.shape[0]])))
            if base ** len(state) < 2**62
            else np.bincount(inverse.ravel(), minlength=picked.size)
        )
        return keys, children[picked], weights[picked], counts.astype(np.float64)

    def pvalue(self) -> float:
        thr = self.threshold
        last = len(self.stages) - 1
        root = tuple(sorted(self.rows))
        if self._bounds(0, root)[0] <= thr:  # even the most probable table counts
            return 1.0
        counted: list[FloatArray] = []
        nodes: dict[tuple[int, ...], tuple[FloatArray, FloatArray]] = {
            root: (np.zeros(1), np.ones(1))
        }
        for k in range(last):
            registry = _Registry(self, k + 1)
            held: list[tuple[IntArray, FloatArray, FloatArray]] = []
            n_held = 0
            merge_at = _MERGE_EVERY
            for state, (past, mult) in nodes.items():
                # Charge the work before doing it, so that a hopeless table fails fast.
                self._charge(_count_fillings(self.stages[k], state) + past.size)
                keys, rows, stage_w, fill_n = self._daughters(k, state)
                self._charge(3 * len(keys))
                child = registry.lookup(keys, rows)
                upper, lower, log_total = registry.bounds(child)
                # Pasts arrive sorted (see _merge), so for each child the pasts whose every
                # completion counts form a prefix, and those still open the next stretch.
                top = float(past[-1])
                prefix = np.zeros(past.size + 1)
                np.cumsum(mult * np.exp(past - top), out=prefix[1:])
                n_every = np.searchsorted(past, thr - stage_w - upper, side="right")
                n_alive = np.searchsorted(past, thr - stage_w - lower, side="right")
                some = n_every > 0
                if np.any(some):
                    counted.append(
                        np.log(fill_n[some] * prefix[n_every[some]])
                        + top
                        + stage_w[some]
                        + log_total[some]
                    )
                lengths = np.maximum(n_alive - n_every, 0)
                n_open = int(lengths.sum())
                self._charge(4 * n_open)
                if n_open == 0 or k + 1 == last:
                    # At the last stage the bounds are exact, so nothing stays open.
                    continue
                which = np.repeat(np.arange(len(keys)), lengths)
                starts = np.cumsum(lengths) - lengths
                at = np.repeat(n_every, lengths) + np.arange(n_open) - np.repeat(starts, lengths)
                held.append((child[which], past[at] + stage_w[which], mult[at] * fill_n[which]))
                n_held += n_open
                if n_held > merge_at:
                    # Many paths repeat (same child, same past): merge as we go to bound memory.
                    held = [self._compact(held)]
                    n_held = held[0][0].size
                    self._charge(2 * merge_at)
                    merge_at = max(_MERGE_EVERY, 2 * n_held)
                    if n_held > _MAX_HELD:
                        raise ExactTestTooLarge(
                            "the exact test needs more memory than allowed for this table"
                        )
            if not held:
                break
            nodes = self._merge(registry.states, held)
        if not counted:  # pragma: no cover - the observed table itself always counts
            return 0.0
        logs = np.concatenate(counted)
        top = float(logs.max())
        log_p = top + math.log(float(np.exp(logs - top).sum())) + self.constant
        return min(1.0, math.exp(log_p))

    def _charge(self, amount: int) -> None:
        self.budget.charge(amount)

    @staticmethod
    def _compact(
        held: list[tuple[IntArray, FloatArray, FloatArray]],
    ) -> tuple[IntArray, FloatArray, FloatArray]:
        """Paths sorted by child node then past, pasts within ``PAST_QUANTUM`` merged.

        Pasts are quantised to multiples of ``PAST_QUANTUM`` above the smallest one and
        packed with the child's number into one 64-bit key, so a single integer sort
        groups them (a two-key ``lexsort`` took 60 % of the time on 6 × 4 tables). Each
        merged group keeps the past of one of its members, so a stored past is off by less
        than one quantum per stage: a relative error below ``stages * 2**-36`` on a path's
        probability, far inside the 1e-9 asked of p-values, and a table can change sides
        of the threshold only if it lies within that distance of ``log P_obs + TOL``
        (FEXACT merges pasts within ``TOL`` = 3.45e-7 itself). When the key would not fit
        in 63 bits the exact two-key sort is used.
        """
        child = np.concatenate([h[0] for h in held])
        past = np.concatenate([h[1] for h in held])
        mult = np.concatenate([h[2] for h in held])
        low, high = float(past.min()), float(past.max())
        child_bits = max(1, int(child.max()).bit_length())
        steps = (high - low) / PAST_QUANTUM
        if steps < 2.0 ** (62 - child_bits):
            key = (child << (62 - child_bits)) | np.rint((past - low) / PAST_QUANTUM).astype(
                np.int64
            )
            order = np.argsort(key)
            key = key[order]
            new_group = np.ones(key.size, dtype=bool)
            new_group[1:] = key[1:] != key[:-1]
        else:  # pragma: no cover - only for pasts spread over a vast range
            order = np.lexsort((past, child))
            new_group = np.ones(child.size, dtype=bool)
            c, v = child[order], past[order]
            new_group[1:] = (c[1:] != c[:-1]) | (v[1:] != v[:-1])
        child, past, mult = child[order], past[order], mult[order]
        starts = np.flatnonzero(new_group)
        return child[starts], past[starts], np.add.reduceat(mult, starts)

    @classmethod
    def _merge(
        cls, states: list[tuple[int, ...]], held: list[tuple[IntArray, FloatArray, FloatArray]]
    ) -> dict[tuple[int, ...], tuple[FloatArray, FloatArray]]:
        """Group paths by child node and by exactly equal past, adding their counts."""
        child, past, mult = cls._compact(held)
        node_starts = np.flatnonzero(np.r_[True, child[1:] != child[:-1]])
        node_ends = np.r_[node_starts[1:], child.size]
        return {
            states[int(child[s])]: (past[s:e], mult[s:e])
            for s, e in zip(node_starts.tolist(), node_ends.tolist(), strict=True)
        }


def network_pvalue(
    table: Sequence[Sequence[int]], log_tol: float, budget: Budget | None = None
) -> float:
    """Exact Fisher–Freeman–Halton p-value of an r × c table with no empty row or column.

    Args:
        table: The observed counts (at least 2 × 2, every row and column total positive).
        log_tol: A table counts when ``log P(table) <= log P(observed) + log_tol``.
        budget: Work allowed (by default :data:`.fisher_budget.DEFAULT_MAX_WORK`).

    Returns:
        The total probability of the tables that count.

    Raises:
        ExactTestTooLarge: The budget would be exceeded.
    """
    arr = np.asarray(table, dtype=np.int64)
    return _Network(arr, log_tol, budget or Budget(DEFAULT_MAX_WORK)).pvalue()
