"""Every row of every table, weighted: per group and stratum, sums for the estimators.

The weighted twin of `analysis.counting`: each coded column becomes three histograms over
(group, stratum, answer code), counts, sum of weights and sum of squared weights, one
`bincount` each; a row's rules are evaluated on the distinct codes and applied as a matrix
product. Group 0 holds respondents with no value for the grouping (in the overall figures,
in no group), as in `counting`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from sharedground.analysis.counting import Counts
from sharedground.analysis.rows import RowSpec
from sharedground.analysis.weights.weighting import WaveWeights

Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class WeightedCounts:
    """rows x (ungrouped + groups) x strata: counted (1) and valid-not-counted (0)."""

    n1: Floats
    n0: Floats
    w1: Floats
    w0: Floats
    q1: Floats
    q0: Floats
    stratum_sizes: Floats
    #: Respondents per group (ungrouped first).
    respondents: npt.NDArray[np.int64]

    def counts(self, keys: Sequence[object]) -> Counts:
        """The unweighted counts, from the same pass (a row's counted answers are always
        among its valid ones, so valid = counted + valid-not-counted)."""
        counted = self.n1.sum(axis=2).astype(np.int64)
        valid = counted + self.n0.sum(axis=2).astype(np.int64)
        return Counts(
            keys=list(keys),
            counted=counted[:, 1:],
            valid=valid[:, 1:],
            respondents=self.respondents[1:],
            overall_counted=counted.sum(axis=1),
            overall_valid=valid.sum(axis=1),
            overall_respondents=int(self.respondents.sum()),
            ungrouped=int(self.respondents[0]),
        )


def weighted_count(
    frame: pl.DataFrame,
    specs: Sequence[RowSpec],
    by: pl.Expr,
    keys: Sequence[object],
    weights: WaveWeights,
) -> WeightedCounts:
    n_groups = len(keys) + 1
    lookup = {key: i + 1 for i, key in enumerate(keys)}
    group_index = (
        frame.select(by.replace_strict(lookup, default=0, return_dtype=pl.Int64))
        .to_series()
        .fill_null(0)
        .to_numpy()
    )
    h = weights.n_strata
    cell = group_index * h + weights.strata
    w, w2 = weights.values, weights.values * weights.values
    columns = list(dict.fromkeys(spec.column for spec in specs))
    hist: dict[str, tuple[list[int | None], Floats, Floats, Floats]] = {}
    # Raked and design weights take few distinct values (one per role x trust x phase):
    # respondents of one cell with one weight form a class, each column is counted once
    # per class, and the weighted sums follow from the class's weight. One bincount a
    # column instead of three; the sums are the same up to the order of addition.
    classes = _weight_classes(cell, w, n_groups * h)
    for c in columns:
        values, codes = _codes(frame[c])
        width = len(values)
        shape = (n_groups, h, width)
        if classes is not None:
            klass, class_cell, class_w = classes
            k = len(class_w)
            counts = np.bincount(klass * width + codes, minlength=k * width).reshape(k, width)
            counts = counts.astype(np.float64)
            size = n_groups * h
            hn = np.zeros((size, width))
            hw = np.zeros((size, width))
            hq = np.zeros((size, width))
            np.add.at(hn, class_cell, counts)
            np.add.at(hw, class_cell, counts * class_w[:, None])
            np.add.at(hq, class_cell, counts * (class_w * class_w)[:, None])
            hist[c] = (values, hn.reshape(shape), hw.reshape(shape), hq.reshape(shape))
            continue
        key = cell * width + codes
        size = n_groups * h * width
        hist[c] = (
            values,
            np.bincount(key, minlength=size).astype(np.float64).reshape(shape),
            np.bincount(key, weights=w, minlength=size).astype(np.float64).reshape(shape),
            np.bincount(key, weights=w2, minlength=size).astype(np.float64).reshape(shape),
        )
    width = max((len(v) for v, *_ in hist.values()), default=1)
    probe = pl.DataFrame(
        [
            pl.Series(c, [*values, *([None] * (width - len(values)))], dtype=frame[c].dtype)
            for c, (values, *_) in hist.items()
        ]
    )
    rules = probe.select(
        *(s.counted.fill_null(False).alias(f"c{i}") for i, s in enumerate(specs)),
        *(s.valid.fill_null(False).alias(f"v{i}") for i, s in enumerate(specs)),
    )
    shape = (len(specs), n_groups, h)
    out = {k: np.zeros(shape) for k in ("n1", "n0", "w1", "w0", "q1", "q0")}
    for i, spec in enumerate(specs):
        values, hn, hw, hq = hist[spec.column]
        used = len(values)
        counted = rules[f"c{i}"].to_numpy()[:used]
        valid = rules[f"v{i}"].to_numpy()[:used]
        yes = (counted & valid).astype(np.float64)
        no = (valid & ~counted).astype(np.float64)
        out["n1"][i], out["n0"][i] = hn @ yes, hn @ no
        out["w1"][i], out["w0"][i] = hw @ yes, hw @ no
        out["q1"][i], out["q0"][i] = hq @ yes, hq @ no
    sizes = np.bincount(weights.strata, minlength=h).astype(np.float64)
    respondents = np.bincount(group_index, minlength=n_groups).astype(np.int64)
    return WeightedCounts(stratum_sizes=sizes, respondents=respondents, **out)


#: Most weight classes worth counting by (`weighted_count`); beyond, three bincounts a column.
MAX_CLASSES = 20_000


def _weight_classes(
    cell: npt.NDArray[np.int64], w: Floats, cells: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], Floats] | None:
    """Each respondent's class (cell and weight alike), each class's cell and weight."""
    values = pl.Series(w)
    found = values.unique()  # by hashing: a sort of a million weights costs more than it saves
    if len(found) > MAX_CLASSES or len(found) * cells > MAX_CLASSES * 8:
        return None
    inverse = values.replace_strict(found, pl.Series(np.arange(len(found)))).to_numpy()
    distinct = found.to_numpy()
    joint = cell * len(distinct) + inverse.astype(np.int64)
    present = np.bincount(joint, minlength=cells * len(distinct)) > 0
    ids = np.flatnonzero(present)
    if len(ids) > MAX_CLASSES:
        return None
    remap = np.cumsum(present) - 1
    return remap[joint], ids // len(distinct), distinct[ids % len(distinct)]


def _codes(series: pl.Series) -> tuple[list[int | None], npt.NDArray[np.int64]]:
    """The distinct values of a coded column (as `counting`) and each respondent's index."""
    if series.dtype == pl.UInt8:
        codes = series.to_numpy().astype(np.int64)
        top = int(codes.max()) if len(codes) else 0
        return list(range(top + 1)), codes
    if series.dtype.is_integer() and len(series):
        # Small non-negative codes (the usual case): distinct values by a histogram.
        low, high = series.min(), series.max()
        if isinstance(low, int) and isinstance(high, int) and low >= 0 and high < 4096:
            shifted_np = (series + 1).fill_null(0).cast(pl.Int64).to_numpy()
            present = np.bincount(shifted_np, minlength=high + 2) > 0
            distinct_np = np.flatnonzero(present)
            remap = np.cumsum(present) - 1
            values = [None if v == 0 else int(v) - 1 for v in distinct_np]
            return values, remap[shifted_np].astype(np.int64)
    shifted = (series.cast(pl.Int64) + 1).fill_null(0)
    distinct = shifted.unique().sort()
    index = shifted.replace_strict(
        distinct, pl.Series(range(distinct.len())), return_dtype=pl.Int64
    ).to_numpy()
    return [None if v == 0 else v - 1 for v in distinct.to_list()], index
