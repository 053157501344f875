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

    counted_all = np.zeros((len(specs), n_groups), dtype=np.int64)
    valid_all = np.zeros((len(specs), n_groups), dtype=np.int64)
    by_column: dict[str, list[int]] = {}
    for i, spec in enumerate(specs):
        by_column.setdefault(spec.column, []).append(i)
    for column, rows in by_column.items():
        values, histogram = _histogram(frame[column], group_index, n_groups)
        probe = pl.DataFrame({column: values})
        rules = probe.select(
            *(specs[i].counted.fill_null(False).alias(f"c{i}") for i in rows),
            *(specs[i].valid.fill_null(False).alias(f"v{i}") for i in rows),
        )
        for i in rows:
            counted_all[i] = histogram @ rules[f"c{i}"].to_numpy().astype(np.int64)
            valid_all[i] = histogram @ rules[f"v{i}"].to_numpy().astype(np.int64)

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
    series: pl.Series, group_index: npt.NDArray[np.int64], n_groups: int
) -> tuple[pl.Series, IntMatrix]:
    """The distinct values of a coded column and how often each occurs in each group.

    Returns the values (null first, standing for blank) and a groups x values matrix.
    """
    # Shift by one so that 0 can stand for blank: codes start at 1, but a multi-choice
    # mask of 0 ("nothing ticked") is an answer.
    shifted = (series.cast(pl.Int64) + 1).fill_null(0)
    top = int(shifted.max() or 0)  # type: ignore[arg-type]
    if top < _DIRECT_CODES:
        codes = shifted.to_numpy()
        width = top + 1
        values = pl.Series(series.name, [None, *range(top)], dtype=series.dtype)
    else:
        distinct = shifted.unique().sort()
        codes = shifted.replace_strict(
            distinct, pl.Series(range(distinct.len())), return_dtype=pl.Int64
        ).to_numpy()
        width = distinct.len()
        raw = [None if v == 0 else v - 1 for v in distinct.to_list()]
        values = pl.Series(series.name, raw, dtype=series.dtype)
    flat = np.bincount(group_index * width + codes, minlength=n_groups * width)
    return values, flat.reshape(n_groups, width).astype(np.int64)
