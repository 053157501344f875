"""Exporting a wave: CSV byte for byte, Excel and Parquet read back equal, on both backends."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import polars as pl
import pytest
from exchange_rows import RowsFile, WriteFile, frame_of, random_rows

from sharedground.exchange.columns import all_column_names
from sharedground.exchange.exporter import FORMATS, export_wave, wave_frame
from sharedground.exchange.importer import import_file
from sharedground.instrument import Instrument
from sharedground.store import Store, StoreError


def read_strings(path: Path) -> pl.DataFrame:
    return pl.read_csv(path, infer_schema=False)


def test_csv_export_import_export_is_byte_identical(
    store: Store, rows_file: RowsFile, dmr2015: Instrument, tmp_path: Path
) -> None:
    source = rows_file(random_rows(dmr2015, 60, seed=11))
    import_file(store, source, "first")
    first = tmp_path / "first.csv"
    assert export_wave(store, "first", "csv", first) == 60
    import_file(store, first, "second")
    second = tmp_path / "second.csv"
    export_wave(store, "second", "csv", second)
    assert second.read_bytes() == first.read_bytes()
    # The file written in canonical form comes back unchanged too.
    assert first.read_bytes() == source.read_bytes()


def test_csv_export_is_canonical_whatever_the_input_looked_like(
    store: Store, write_file: WriteFile, tmp_path: Path, dmr2015: Instrument
) -> None:
    messy = write_file(
        b"\xef\xbb\xbf"
        b"barriers,role,respondent_id,submitted,comments_final\r\n"
        b' lack_trust;time_doctors ,chief_executive, r1 ,2015-6-1,"two\r\nlines"\r\n'
        b"none,medical_director,r2,,\r\n"
    )
    import_file(store, messy, "w", allow_missing_items=True)
    out = tmp_path / "out.csv"
    export_wave(store, "w", "csv", out)
    data = out.read_bytes()
    assert not data.startswith(b"\xef\xbb\xbf") and b"\r" not in data
    header = data.decode("utf-8").split("\n", 1)[0]
    assert header.split(",") == all_column_names(dmr2015)
    frame = read_strings(out)
    assert frame["respondent_id"].to_list() == ["r1", "r2"]
    assert frame["mode"].to_list() == ["online", "online"]
    assert frame["submitted"].to_list() == ["2015-06-01", None]
    assert frame["barriers"].to_list() == ["time_doctors;lack_trust", "none"]
    assert frame["comments_final"].to_list() == ["two\nlines", None]
    assert data.endswith(b"\n") and not data.endswith(b"\n\n")


def test_rows_come_out_in_the_order_they_went_in(
    store: Store, rows_file: RowsFile, dmr2015: Instrument, tmp_path: Path
) -> None:
    rows = random_rows(dmr2015, 20, seed=12)
    rows.reverse()
    import_file(store, rows_file(rows), "w")
    export_wave(store, "w", "csv", tmp_path / "out.csv")
    assert read_strings(tmp_path / "out.csv")["respondent_id"].to_list() == [
        r["respondent_id"] for r in rows
    ]


def test_xlsx_and_parquet_read_back_equal(
    store: Store, rows_file: RowsFile, dmr2015: Instrument, tmp_path: Path
) -> None:
    rows = random_rows(dmr2015, 40, seed=13)
    rows[0]["comments_final"] = '=HYPERLINK("http://example.org")'
    rows[1]["comments_final"] = "007"
    import_file(store, rows_file(rows), "w")
    expected = frame_of(rows, dmr2015)

    export_wave(store, "w", "parquet", tmp_path / "out.parquet")
    parquet = pl.read_parquet(tmp_path / "out.parquet")
    assert parquet.equals(expected)

    export_wave(store, "w", "xlsx", tmp_path / "out.xlsx")
    excel = pl.read_excel(
        tmp_path / "out.xlsx", sheet_name="responses", engine="openpyxl", infer_schema_length=0
    )
    assert excel.equals(expected)
    # Text that looks like a formula or a number stays text in the workbook.
    sheet = openpyxl.load_workbook(tmp_path / "out.xlsx", read_only=True)["responses"]
    column = all_column_names(dmr2015).index("comments_final") + 1
    cells = [row[column - 1] for row in sheet.iter_rows(min_row=2, max_row=3)]
    assert [(c.value, c.data_type) for c in cells] == [
        ('=HYPERLINK("http://example.org")', "s"),
        ("007", "s"),
    ]
    sheet.parent.close()


def test_wave_frame_is_the_canonical_layout(
    store: Store, rows_file: RowsFile, dmr2015: Instrument
) -> None:
    rows = random_rows(dmr2015, 5, seed=14)
    import_file(store, rows_file(rows), "w")
    instrument, frame = wave_frame(store, "w")
    assert instrument == dmr2015
    assert frame.columns == all_column_names(dmr2015)
    assert set(frame.dtypes) == {pl.String}
    assert frame.equals(frame_of(rows, dmr2015))


def test_an_empty_wave_exports_a_header(store: Store, tmp_path: Path, dmr2015: Instrument) -> None:
    with store.session() as session:
        store.create_wave(session, "empty", dmr2015)
    out = tmp_path / "deep" / "folder" / "empty.csv"
    assert export_wave(store, "empty", "csv", out) == 0
    assert out.read_text(encoding="utf-8") == ",".join(all_column_names(dmr2015)) + "\n"


@pytest.mark.parametrize("fmt", FORMATS)
def test_unknown_wave(store: Store, tmp_path: Path, fmt: str) -> None:
    with pytest.raises(StoreError, match=r"no wave 'nope' \(waves: none yet\)"):
        export_wave(store, "nope", fmt, tmp_path / f"x.{fmt}")  # type: ignore[arg-type]
    assert not (tmp_path / f"x.{fmt}").exists()
