"""Answer columns as integer codes into a table of strings, turned into polars at the end.

Keeping answers as small integer codes until the very end keeps a million-row cohort cheap:
the final `polars.Series.gather` builds string views that share one small buffer of distinct
values instead of a million Python strings.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl
from numpy.typing import NDArray


@dataclass(frozen=True)
class Coded:
    """One column: ``values[codes[i]]`` is row i; a code of ``len(values)`` is blank."""

    values: Sequence[str] | pl.Series
    codes: NDArray[np.integer]

    @classmethod
    def blank(cls, n: int) -> Coded:
        """A column of `n` blanks."""
        return cls((), np.zeros(n, dtype=np.uint8))

    def series(self, name: str, order: NDArray[np.int64]) -> pl.Series:
        """The column as strings (null = blank), rows taken in `order`."""
        if isinstance(self.values, pl.Series):
            lookup = pl.concat([self.values.cast(pl.String), pl.Series([None], dtype=pl.String)])
        else:
            lookup = pl.Series(name, [*self.values, None], dtype=pl.String)
        # polars gathers fastest with its own index type (u32); other widths are cast first.
        index = pl.Series(self.codes[order].astype(np.uint32, copy=False))
        return lookup.gather(index).alias(name)
