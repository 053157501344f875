"""Checking and tidying the contingency tables handed to the tests."""

from __future__ import annotations

import math
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

#: A table of counts: a list of rows (one per group), each a list of counts (one per
#: answer option), or a 2-D numpy array of the same.
Counts: TypeAlias = Sequence[Sequence[Any]] | npt.NDArray[Any]


@dataclass(frozen=True)
class CleanTable:
    """A validated table with its empty rows and columns removed.

    Attributes:
        counts: The remaining counts, as a tuple of rows.
        dropped_rows: 1-based numbers of the rows (groups) that had no counts at all.
        dropped_columns: 1-based numbers of the columns (answer options) nobody chose.
        problem: Why no test is possible on what remains, or None if one is.
    """

    counts: tuple[tuple[int, ...], ...]
    dropped_rows: tuple[int, ...]
    dropped_columns: tuple[int, ...]
    problem: str | None

    @property
    def dropped_note(self) -> str:
        """Sentence describing what was dropped, or ``""``."""
        parts = []
        if self.dropped_rows:
            parts.append(
                f"{_plural(len(self.dropped_rows), 'group')} with no answers "
                f"({_numbered('row', self.dropped_rows)})"
            )
        if self.dropped_columns:
            parts.append(
                f"{_plural(len(self.dropped_columns), 'answer option')} nobody chose "
                f"({_numbered('column', self.dropped_columns)})"
            )
        return f"Dropped {' and '.join(parts)}." if parts else ""


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _numbered(word: str, numbers_: tuple[int, ...]) -> str:
    listed = ", ".join(str(v) for v in numbers_)
    return f"{word} {listed}" if len(numbers_) == 1 else f"{word}s {listed}"


def _as_count(value: object, i: int, j: int) -> int:
    """One cell as an int, or a ValueError saying what is wrong with it and where."""
    where = f"row {i + 1}, column {j + 1}"
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"counts must be whole numbers, not booleans ({value!r} at {where})")
    if isinstance(value, numbers.Integral):
        number = int(value)
    elif isinstance(value, numbers.Real):
        real = float(value)
        if not math.isfinite(real) or not real.is_integer():
            raise ValueError(f"counts must be whole numbers; got {value!r} at {where}")
        number = int(real)
    else:
        raise ValueError(f"counts must be whole numbers; got {value!r} at {where}")
    if number < 0:
        raise ValueError(f"counts cannot be negative; got {number} at {where}")
    return number


def clean_table(counts: Counts) -> CleanTable:
    """Validate a table of counts and drop its empty rows and columns.

    Args:
        counts: Rows of non-negative whole numbers, all of the same length.

    Returns:
        The cleaned table, with ``problem`` set when fewer than two groups or fewer than
        two answer options remain (so no comparison is possible).

    Raises:
        ValueError: The input is not a list of equally long rows of non-negative whole
            numbers.
    """
    if isinstance(counts, np.ndarray):
        if counts.ndim != 2:
            raise ValueError(f"counts must be a 2-D table; got an array of shape {counts.shape}")
        rows_in: list[list[object]] = counts.tolist()
    elif isinstance(counts, str | bytes) or not isinstance(counts, Sequence):
        raise ValueError("counts must be a list of rows, one per group")
    else:
        rows_in = []
        for i, row in enumerate(counts):
            if isinstance(row, str | bytes) or not isinstance(row, Sequence | np.ndarray):
                raise ValueError(
                    f"counts must be a list of rows, one per group; row {i + 1} is {row!r}"
                )
            rows_in.append(list(row))
    widths = {len(row) for row in rows_in}
    if len(widths) > 1:
        raise ValueError(
            f"all rows must have the same number of columns; got lengths {sorted(widths)}"
        )
    table = [[_as_count(v, i, j) for j, v in enumerate(row)] for i, row in enumerate(rows_in)]
    if not table or not table[0]:
        return CleanTable((), (), (), "The table is empty, so there is nothing to test.")
    n_cols = len(table[0])
    row_keep = [i for i, row in enumerate(table) if sum(row) > 0]
    col_keep = [j for j in range(n_cols) if any(table[i][j] for i in row_keep)]
    dropped_rows = tuple(i + 1 for i in range(len(table)) if i not in row_keep)
    dropped_cols = tuple(j + 1 for j in range(n_cols) if j not in col_keep)
    kept = tuple(tuple(table[i][j] for j in col_keep) for i in row_keep)
    problem: str | None = None
    if not kept:
        problem = "All counts are zero, so there is nothing to test."
    elif len(row_keep) < 2:
        problem = "Only one group has any answers, so there is nothing to compare it with."
    elif len(col_keep) < 2:
        problem = "Every answer falls in the same option, so the groups cannot differ."
    return CleanTable(kept, dropped_rows, dropped_cols, problem)


def smallest_expected(counts: tuple[tuple[int, ...], ...]) -> float:
    """Smallest expected count ``row total * column total / N`` of a non-empty table."""
    rows = [sum(r) for r in counts]
    cols = [sum(c) for c in zip(*counts, strict=True)]
    return float(min(rows) * min(cols) / sum(rows))


def expected_at_least(counts: tuple[tuple[int, ...], ...], bound: int) -> bool:
    """Whether every expected count is at least ``bound`` (decided in exact integers)."""
    rows = [sum(r) for r in counts]
    cols = [sum(c) for c in zip(*counts, strict=True)]
    return bool(min(rows) * min(cols) >= bound * sum(rows))
