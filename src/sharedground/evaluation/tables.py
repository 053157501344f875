"""Accepting plain tables: Polars or pandas DataFrames, read as Polars."""

from __future__ import annotations

from typing import Any

import polars as pl


class EvaluationInputError(ValueError):
    """A table given to the evaluation lacks what it needs (the message names what)."""


def as_polars(frame: Any, name: str, columns: list[str]) -> pl.DataFrame:
    """The frame as Polars, checking that it has `columns`."""
    if isinstance(frame, pl.DataFrame):
        out = frame
    else:
        if not hasattr(frame, "columns") or not hasattr(frame, "to_dict"):
            raise EvaluationInputError(
                f"{name}: expected a Polars or pandas DataFrame, got {type(frame).__name__}"
            )
        try:
            out = pl.from_pandas(frame)
        except ImportError:
            # Without pyarrow Polars takes only plain NumPy columns: go through lists
            # (pandas' NaN is its missing value, so it becomes null here).
            out = pl.DataFrame({str(c): frame[c].tolist() for c in frame.columns}, strict=False)
            out = out.with_columns(pl.col(pl.Float64).fill_nan(None))
    missing = [c for c in columns if c not in out.columns]
    if missing:
        raise EvaluationInputError(
            f"{name}: missing column(s) {', '.join(missing)}; it has {', '.join(out.columns)}"
        )
    return out
