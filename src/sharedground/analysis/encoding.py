"""Answers as small integer codes: the columnar form every analysis runs on.

The store keeps each response as a JSON document of cell texts. Counting a million of those
per table would mean comparing a hundred million strings, so a wave is turned once into a
frame of codes:

* one-value items (Likert, rating, single choice, each grid row): ``UInt8``, the 1-based
  position of the answer in the column's allowed values (`Column.allowed`), ``0`` when
  blank (not null: a column without nulls reaches NumPy without a copy);
* multi-choice items: ``UInt64`` bit masks, bit *i* set when option *i* is ticked, ``0`` for
  "nothing ticked" and null when the question was skipped;
* the fixed columns ``role``, ``mode`` (codes like items) and ``trust`` (the code as text,
  null when blank).

Free text is never encoded: analysis has no use for it and it must not leak into a cache.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from sharedground.exchange.columns import MODES, MULTI_SEPARATOR, Column, item_columns
from sharedground.instrument import NONE_CHOSEN, Instrument

#: Most options a multi-choice item may have to fit its bit mask.
MAX_MULTI_OPTIONS = 63


@dataclass(frozen=True)
class CodedColumn:
    """How one column of the coded frame relates to the exchange column it came from."""

    name: str
    kind: str
    #: The values code 1, 2, ... stand for (one-value columns), or the options bit 0, 1, ...
    #: stand for (multi-choice).
    values: tuple[str, ...]


def coded_columns(instrument: Instrument) -> list[CodedColumn]:
    """The columns of an instrument's coded frame, fixed columns first."""
    columns = [
        CodedColumn("role", "single", tuple(instrument.role_ids())),
        CodedColumn("mode", "single", MODES),
        CodedColumn("trust", "text", ()),
    ]
    for column in item_columns(instrument):
        if column.kind == "text":
            continue
        columns.append(_coded(column))
    return columns


def _coded(column: Column) -> CodedColumn:
    if column.kind == "multi":
        if len(column.options) > MAX_MULTI_OPTIONS:
            raise ValueError(
                f"item {column.item_id!r} has {len(column.options)} options; analysis handles "
                f"at most {MAX_MULTI_OPTIONS} per multi-choice item"
            )
        return CodedColumn(column.name, "multi", column.options)
    return CodedColumn(column.name, column.kind, column.allowed)


def encode(frame: pl.DataFrame, instrument: Instrument) -> pl.DataFrame:
    """The coded frame of an exchange-layout frame (strings, null = blank).

    Values outside a column's allowed list cannot reach here (the importer refuses them);
    should one appear it is treated as blank rather than miscounted.
    """
    return frame.select(_encode_expr(c, frame.columns) for c in coded_columns(instrument))


def _encode_expr(column: CodedColumn, present: list[str]) -> pl.Expr:
    if column.name not in present:
        if column.kind in ("text", "multi"):
            dtype = pl.String() if column.kind == "text" else _dtype(column)
            return pl.lit(None, dtype=dtype).alias(column.name)
        return pl.lit(0, dtype=pl.UInt8).alias(column.name)
    source = pl.col(column.name).cast(pl.String)
    if column.kind == "text":
        return source.alias(column.name)
    if column.kind == "multi":
        bits = {option: 1 << i for i, option in enumerate(column.values)}
        bits[NONE_CHOSEN] = 0
        return (
            source.str.split(MULTI_SEPARATOR)
            .list.eval(pl.element().replace_strict(bits, default=0, return_dtype=pl.UInt64))
            .list.sum()
            .cast(pl.UInt64)
            .alias(column.name)
        )
    codes = {value: i + 1 for i, value in enumerate(column.values)}
    return source.replace_strict(codes, default=0, return_dtype=pl.UInt8).alias(column.name)


def _dtype(column: CodedColumn) -> pl.DataType:
    return pl.UInt64() if column.kind == "multi" else pl.UInt8()


def schema(instrument: Instrument) -> dict[str, pl.DataType]:
    """The Polars schema of an instrument's coded frame."""
    return {
        c.name: (pl.String() if c.kind == "text" else _dtype(c)) for c in coded_columns(instrument)
    }
