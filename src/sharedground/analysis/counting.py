"""Counting every row of every table for every group, in one pass per column.

Each coded column is turned into a histogram, groups x answer codes, with one
`numpy.bincount` over the respondents. A row's "counted" and "valid" rules are then
evaluated on the handful of distinct codes, not on the respondents, and applied to the
histogram as a matrix product. Rows sharing a column (a rating's high and low rows, the
options of a multi-choice question) share its histogram. A million respondents and every
table of the 2015 survey take well under a second.

The result is two integer matrices (rows x groups): how many were counted and how many gave
a valid answer. Everything downstream (percentages, tests, suppression, trends,
benchmarks) works on these, never on respondents.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from sharedground.analysis.rows import RowSpec

IntMatrix = npt.NDArray[np.int64]

#: Above this many distinct code values a column's codes are renumbered before counting.
_DIRECT_CODES = 4096


@dataclass(frozen=True)
class Counts:
    """Counts by row and group; `overall_*` cover everyone, grouped or not."""

    keys: list[object]
    counted: IntMatrix  # rows x groups
    valid: IntMatrix  # rows x groups
    respondents: npt.NDArray[np.int64]  # per group
    overall_counted: npt.NDArray[np.int64]  # per row
    overall_valid: npt.NDArray[np.int64]  # per row
    overall_respondents: int
    #: Respondents with no value for the grouping (counted in `overall` only).
    ungrouped: int


def count(
    frame: pl.DataFrame, specs: Sequence[RowSpec], by: pl.Expr, keys: Sequence[object]
) -> Counts:
    """Count `specs` per value of `by`, the groups being `keys` in that order.

    Values of `by` not in `keys`, and blanks, are left out of the groups but kept in the
    overall figures (as group 0 below).
    """
    n_groups = len(keys) + 1
    lookup = {key: i + 1 for i, key in enumerate(keys)}
    group_index = (
        frame.select(by.replace_strict(lookup, default=0, return_dtype=pl.Int64))
        .to_series()
        .fill_null(0)
        .to_numpy()
    )
    respondents_all = np.bincount(group_index, minlength=n_groups).astype(np.int64)

    columns = list(dict.fromkeys(spec.column for spec in specs))
    scaled: dict[int, npt.NDArray[np.integer]] = {}
    histograms = {c: _histogram(frame[c], group_index, n_groups, scaled) for c in columns}
    # Every row's rules, evaluated at once on the few distinct codes of its column (one
    # small frame, padded with blanks to a common length), instead of on every respondent.
    width = max((len(values) for values, _ in histograms.values()), default=1)
    probe = pl.DataFrame(
        [
            pl.Series(c, [*values, *([None] * (width - len(values)))], dtype=frame[c].dtype)
            for c, (values, _) in histograms.items()
        ]
    )
    rules = probe.select(
        *(s.counted.fill_null(False).alias(f"c{i}") for i, s in enumerate(specs)),
        *(s.valid.fill_null(False).alias(f"v{i}") for i, s in enumerate(specs)),
    )
    counted_all = np.zeros((len(specs), n_groups), dtype=np.int64)
    valid_all = np.zeros((len(specs), n_groups), dtype=np.int64)
    for i, spec in enumerate(specs):
        values, histogram = histograms[spec.column]
        used = len(values)
        counted_all[i] = histogram @ rules[f"c{i}"].to_numpy()[:used].astype(np.int64)
        valid_all[i] = histogram @ rules[f"v{i}"].to_numpy()[:used].astype(np.int64)

    return Counts(
        keys=list(keys),
        counted=counted_all[:, 1:],
        valid=valid_all[:, 1:],
        respondents=respondents_all[1:],
        overall_counted=counted_all.sum(axis=1),
        overall_valid=valid_all.sum(axis=1),
        overall_respondents=int(respondents_all.sum()),
        ungrouped=int(respondents_all[0]),
    )


def _histogram(
    series: pl.Series,
    group_index: npt.NDArray[np.int64],
    n_groups: int,
    scaled: dict[int, npt.NDArray[np.integer]],
) -> tuple[list[int | None], IntMatrix]:
    """The distinct values of a coded column and how often each occurs in each group.

    Returns the values (the blank one first: 0 for answer codes, None for multi-choice
    masks) and a groups x values matrix. `scaled` keeps `group_index * width` per width,
    shared by the columns of the same width.
    """
    if series.dtype == pl.UInt8:
        # Answer codes: 1, 2, ... and 0 for blank; no nulls, so no copy.
        codes = series.to_numpy()
        top = int(codes.max()) if len(codes) else 0
        values: list[int | None] = list(range(top + 1))
    else:
        # Multi-choice masks: 0 ("nothing ticked") is an answer, so shift by one.
        shifted = (series.cast(pl.Int64) + 1).fill_null(0)
        top = int(shifted.max() or 0)  # type: ignore[arg-type]
        if top < _DIRECT_CODES:
            codes = shifted.to_numpy()
            values = [None, *range(top)]
        else:
            distinct = shifted.unique().sort()
            codes = shifted.replace_strict(
                distinct, pl.Series(range(distinct.len())), return_dtype=pl.Int64
            ).to_numpy()
            values = [None if v == 0 else v - 1 for v in distinct.to_list()]
    width = len(values)
    # Narrow keys halve the memory traffic of the one pass that touches every respondent.
    key_type = np.uint16 if n_groups * width < 2**16 else np.int64
    if width not in scaled:
        scaled[width] = (group_index * width).astype(key_type)
    keys = scaled[width] + codes.astype(key_type)
    flat = np.bincount(keys, minlength=n_groups * width)
    return values, flat.reshape(n_groups, width).astype(np.int64)
