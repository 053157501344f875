"""Reading and validating an exchange CSV file, whole, before anything is written.

Validation is vectorised with Polars so that a national wave of a million rows is checked
in seconds; every problem is reported with its row, column, the bad value and what is
allowed.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from sharedground.exchange import csvparse
from sharedground.exchange.columns import (
    FIXED_COLUMNS,
    MODES,
    MULTI_SEPARATOR,
    Column,
    item_columns,
)
from sharedground.exchange.csvfile import free_text_columns
from sharedground.exchange.formulas import restore_expr
from sharedground.exchange.problems import InvalidFile, Problem
from sharedground.instrument import NONE_CHOSEN, Instrument

TRUST_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$")
MAX_PROBLEMS_PER_COLUMN = 20
_ROW = "__row__"


@dataclass
class ExchangeFile:
    """A validated file: the canonical frame (strings, null = blank) and what was noticed."""

    path: str
    frame: pl.DataFrame
    notes: list[str]


def read_exchange_csv(
    path: str | Path,
    instrument: Instrument,
    default_mode: str = "online",
    allow_missing_items: bool = False,
) -> ExchangeFile:
    """Read and validate a whole file; raise InvalidFile listing every problem.

    A file without a column for some item is refused (every answer to that question would
    be stored as blank without a word), unless `allow_missing_items`: then a note names
    the missing columns.
    """
    name = str(path)
    notes: list[str] = []
    try:
        raw = Path(path).read_bytes()
    except FileNotFoundError:
        raise InvalidFile(name, [Problem(None, None, "no such file")]) from None
    except IsADirectoryError:
        raise InvalidFile(name, [Problem(None, None, "is a folder, not a file")]) from None
    data = csvparse.decode_bytes(name, raw, notes)
    del raw  # the same bytes when nothing was changed; else a gigabyte to give back
    frame = csvparse.parse_bytes(name, data, known=_known_columns(instrument))
    del data
    frame = _check_header(name, frame, instrument)
    missing = [c.name for c in item_columns(instrument) if c.name not in frame.columns]
    header_problems: list[Problem] = []
    if missing and allow_missing_items:
        notes.append(
            f"{_columns(len(missing))} missing, imported as unanswered: {', '.join(missing)}"
        )
    elif missing:
        header_problems.append(
            Problem(
                1,
                None,
                f"{_columns(len(missing))} missing (instrument {instrument.key}): "
                f"{', '.join(missing)}; add them (blank cells for questions not answered), "
                "or import with --allow-missing-items to store those questions as unanswered",
            )
        )
    frame = _clean(frame.with_row_index(_ROW, offset=2), instrument)
    frame = _drop_blank_rows(frame, instrument, notes)
    if frame.height == 0:
        raise InvalidFile(name, [Problem(None, None, "the file has a header but no rows")])
    frame, problems = _validate(frame, instrument, default_mode)
    if problems or header_problems:
        raise InvalidFile(name, header_problems + problems)
    return ExchangeFile(name, frame, notes)


def _columns(n: int) -> str:
    return "1 item column is" if n == 1 else f"{n} item columns are"


def _known_columns(instrument: Instrument) -> list[str]:
    return [*FIXED_COLUMNS, *(c.name for c in item_columns(instrument))]


def _check_header(name: str, frame: pl.DataFrame, instrument: Instrument) -> pl.DataFrame:
    known = set(_known_columns(instrument))
    problems = []
    renamed = {c: c.strip() for c in frame.columns if c != c.strip()}
    if renamed:
        frame = frame.rename(renamed)
    for column in frame.columns:
        if column not in known:
            close = difflib.get_close_matches(column, sorted(known), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(
                Problem(1, column, f"unknown column for instrument {instrument.key}{hint}")
            )
    for required in ("respondent_id", "role"):
        if required not in frame.columns:
            problems.append(Problem(1, required, "required column is missing"))
    if problems:
        raise InvalidFile(name, problems)
    return frame


def _clean(frame: pl.DataFrame, instrument: Instrument) -> pl.DataFrame:
    """Empty cells as null; spaces around values removed, except in free text.

    The quote an export put before a cell a spreadsheet would take for a formula is taken
    off again (`exchange.formulas`), after the spaces, in the columns where the exporter
    adds it (`csvfile.free_text_columns`); elsewhere a leading quote is a value to refuse.
    """
    text = {c.name for c in item_columns(instrument) if c.kind == "text"}
    quoted = set(free_text_columns(instrument))
    cleaned: list[pl.Expr] = []
    for name in frame.columns:
        if name == _ROW:
            continue
        col = pl.col(name)
        value = col if name in text else col.str.strip_chars()
        if name in quoted:
            value = restore_expr(value)
        cleaned.append(pl.when(value == "").then(None).otherwise(value).alias(name))
    return frame.with_columns(cleaned)


def _drop_blank_rows(frame: pl.DataFrame, instrument: Instrument, notes: list[str]) -> pl.DataFrame:
    """Leave out rows with nothing in any cell (spreadsheets often save a few at the end)."""
    text = {c.name for c in item_columns(instrument) if c.kind == "text"}
    blank = pl.all_horizontal(
        (pl.col(c).str.strip_chars() == "").fill_null(True) if c in text else pl.col(c).is_null()
        for c in frame.columns
        if c != _ROW
    )
    kept = frame.filter(~blank)
    if kept.height < frame.height:
        skipped = frame.height - kept.height
        notes.append(f"{skipped} blank row{'s were' if skipped > 1 else ' was'} skipped")
    return kept


def _validate(
    frame: pl.DataFrame, instrument: Instrument, default_mode: str
) -> tuple[pl.DataFrame, list[Problem]]:
    """Check every (cleaned) cell of a frame numbered in `_ROW`: canonical values, problems."""
    problems: list[Problem] = []
    columns = {c.name: c for c in item_columns(instrument)}
    if "mode" not in frame.columns:
        frame = frame.with_columns(pl.lit(default_mode).alias("mode"))

    problems += _check_fixed(frame, instrument)
    canonical: list[pl.Expr] = []
    if "submitted" in frame.columns:
        # `2015-5-1` is accepted; stored and compared as `2015-05-01`, so that re-importing
        # the file finds the same answers.
        canonical.append(
            pl.col("submitted").str.to_date("%Y-%m-%d", strict=False).dt.to_string("%Y-%m-%d")
        )
    for name, column in columns.items():
        if name not in frame.columns:
            continue
        if column.kind == "multi":
            found, expr = _check_multi(frame, column)
            problems += found
            canonical.append(expr)
        elif column.kind == "text":
            assert column.max_length is not None
            bad = frame.filter(pl.col(name).str.len_chars() > column.max_length)
            problems += [
                Problem(
                    row,
                    name,
                    f"{len(value)} characters, at most {column.max_length} allowed",
                )
                for row, value in bad.select(_ROW, name).head(MAX_PROBLEMS_PER_COLUMN).iter_rows()
            ]
        else:
            problems += _check_allowed(frame, column)
    if canonical and not problems:
        frame = frame.with_columns(canonical)
    return frame.drop(_ROW), problems


def _check_allowed(frame: pl.DataFrame, column: Column) -> list[Problem]:
    name = column.name
    bad = frame.filter(pl.col(name).is_not_null() & ~pl.col(name).is_in(list(column.allowed)))
    return [
        Problem(
            row, name, f"{value!r} is not allowed; use {column.describe_allowed()} or leave blank"
        )
        for row, value in bad.select(_ROW, name).head(MAX_PROBLEMS_PER_COLUMN).iter_rows()
    ]


def _check_multi(frame: pl.DataFrame, column: Column) -> tuple[list[Problem], pl.Expr]:
    """Check `;`-separated choices and return an expression giving them in canonical order."""
    name = column.name
    order = {option: i for i, option in enumerate(column.options)}
    parts = (
        frame.select(_ROW, pl.col(name).str.split(MULTI_SEPARATOR).alias("choice"))
        .drop_nulls("choice")
        .explode("choice")
        .with_columns(pl.col("choice").str.strip_chars())
    )
    problems: list[Problem] = []
    allowed = [*column.options, NONE_CHOSEN]
    unknown = parts.filter(~pl.col("choice").is_in(allowed))
    for row, choice in unknown.head(MAX_PROBLEMS_PER_COLUMN).iter_rows():
        text = "an empty choice" if choice == "" else f"{choice!r} is not an option"
        problems.append(Problem(row, name, f"{text}; use {column.describe_allowed()}"))
    per_row = parts.group_by(_ROW).agg(
        pl.len().alias("n"),
        pl.col("choice").n_unique().alias("unique"),
        (pl.col("choice") == NONE_CHOSEN).any().alias("has_none"),
    )
    duplicated = per_row.filter(pl.col("n") != pl.col("unique")).sort(_ROW)
    for row in duplicated[_ROW].head(MAX_PROBLEMS_PER_COLUMN):
        problems.append(Problem(row, name, "an option is given more than once"))
    mixed = per_row.filter(pl.col("has_none") & (pl.col("n") > 1)).sort(_ROW)
    for row in mixed[_ROW].head(MAX_PROBLEMS_PER_COLUMN):
        problems.append(
            Problem(row, name, f"{NONE_CHOSEN!r} means nothing ticked and cannot go with options")
        )
    if column.max_choices is not None:
        over = per_row.filter(~pl.col("has_none") & (pl.col("unique") > column.max_choices))
        for row, n in (
            over.sort(_ROW).select(_ROW, "unique").head(MAX_PROBLEMS_PER_COLUMN).iter_rows()
        ):
            problems.append(
                Problem(row, name, f"{n} options chosen, at most {column.max_choices} allowed")
            )
    # Canonical form: options in questionnaire order, so exports are byte-stable.
    expr = (
        pl.col(name)
        .str.split(MULTI_SEPARATOR)
        .list.eval(pl.element().str.strip_chars())
        .list.eval(pl.element().sort_by(pl.element().replace_strict(order, default=len(order))))
        .list.join(MULTI_SEPARATOR)
        .alias(name)
    )
    return problems, expr


def _check_fixed(frame: pl.DataFrame, instrument: Instrument) -> list[Problem]:
    problems: list[Problem] = []
    rows = frame.select(_ROW, "respondent_id")
    for (row,) in rows.filter(pl.col("respondent_id").is_null()).select(_ROW).head(20).iter_rows():
        problems.append(Problem(row, "respondent_id", "is blank; every row needs an id"))
    dup = rows.filter(
        pl.col("respondent_id").is_not_null() & pl.col("respondent_id").is_duplicated()
    )
    first_seen: dict[str, int] = {}
    for row, rid in dup.head(40).iter_rows():
        if rid in first_seen:
            problems.append(
                Problem(row, "respondent_id", f"{rid!r} is also used on row {first_seen[rid]}")
            )
        else:
            first_seen[rid] = row
    long_ids = rows.filter(pl.col("respondent_id").str.len_chars() > 100)
    for (row,) in long_ids.select(_ROW).head(20).iter_rows():
        problems.append(Problem(row, "respondent_id", "is longer than 100 characters"))
    roles = instrument.role_ids()
    for row, value in (
        frame.filter(pl.col("role").is_null() | ~pl.col("role").is_in(roles))
        .select(_ROW, "role")
        .head(MAX_PROBLEMS_PER_COLUMN)
        .iter_rows()
    ):
        shown = "blank" if value is None else repr(value)
        problems.append(Problem(row, "role", f"{shown} is not allowed; use {' | '.join(roles)}"))
    for row, value in (
        frame.filter(pl.col("mode").is_null() | ~pl.col("mode").is_in(list(MODES)))
        .select(_ROW, "mode")
        .head(MAX_PROBLEMS_PER_COLUMN)
        .iter_rows()
    ):
        shown = "blank" if value is None else repr(value)
        problems.append(Problem(row, "mode", f"{shown} is not allowed; use {' | '.join(MODES)}"))
    if "trust" in frame.columns:
        bad = frame.filter(
            pl.col("trust").is_not_null() & ~pl.col("trust").str.contains(TRUST_CODE.pattern)
        )
        for row, value in bad.select(_ROW, "trust").head(MAX_PROBLEMS_PER_COLUMN).iter_rows():
            problems.append(
                Problem(
                    row, "trust", f"{value!r} is not a code (letters, digits, - _ . ; up to 32)"
                )
            )
    if "submitted" in frame.columns:
        parsed = frame.select(
            _ROW,
            "submitted",
            pl.col("submitted").str.to_date("%Y-%m-%d", strict=False).alias("date"),
        )
        bad = parsed.filter(pl.col("submitted").is_not_null() & pl.col("date").is_null())
        for row, value, _ in bad.head(MAX_PROBLEMS_PER_COLUMN).iter_rows():
            problems.append(Problem(row, "submitted", f"{value!r} is not a date; use YYYY-MM-DD"))
        future = parsed.filter(pl.col("date") > dt.date.today() + dt.timedelta(days=1))
        for row, value, _ in future.head(MAX_PROBLEMS_PER_COLUMN).iter_rows():
            problems.append(Problem(row, "submitted", f"{value} is in the future"))
    return problems
