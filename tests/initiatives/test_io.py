"""Importing and exporting the register (CSV and XLSX): all rows or none, errors by row and
column, and a round trip that keeps every field."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func, select

from sharedground.exchange.problems import InvalidFile, Problem
from sharedground.initiatives import io, register
from sharedground.initiatives.models import Initiative
from sharedground.store import Store
from sharedground.store.schema import AuditEntry

HEADER = list(io.COLUMNS)
GOOD = [
    [
        "RA1",
        "paired_learning",
        "Pairs",
        "",
        "Surgery; Medicine",
        "Dr Owner",
        "2027-01-10",
        "2027-01-20",
        "",
        "running",
        "",
        "2.5",
    ],
    [
        "RA1",
        "joint_social_spaces",
        "=Cafe",
        "A room",
        "",
        "",
        "2026-03-01",
        "",
        "2026-09-01",
        "ended",
        "merged with the library",
        "",
    ],
    ["RB2", "coaching", "Coaching", "", "", "", "", "", "", "paused", "no coaches", "1.0"],
]


def _csv(path: Path, rows: list[list[str]], header: list[str] = HEADER) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def _xlsx(path: Path, rows: list[list[object]], header: list[str] = HEADER) -> Path:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    book.save(path)
    return path


def _count(store: Store) -> tuple[int, int]:
    with store.session() as session:
        return (
            int(session.scalar(select(func.count()).select_from(Initiative)) or 0),
            int(session.scalar(select(func.count()).select_from(AuditEntry)) or 0),
        )


def test_import_then_export_keeps_every_field(store: Store, tmp_path: Path) -> None:
    assert io.import_register(store, _csv(tmp_path / "in.csv", GOOD), actor="national") == 3
    out = tmp_path / "out.csv"
    assert io.export_register(store, out) == 3
    with out.open(encoding="utf-8") as handle:
        exported = list(csv.reader(handle))
    assert exported[0] == ["id", *HEADER]
    body = sorted((r[1:] for r in exported[1:]), key=lambda r: r[2])
    expected = [list(r) for r in GOOD]
    expected[0][4] = "Surgery;Medicine"
    expected[1][2] = "'=Cafe"  # a formula-looking title is written as text
    assert body == sorted(expected, key=lambda r: r[2])
    # Reading the export back (as another database would) restores the title.
    with store.session() as session:
        ended = register.list_entries(session, stage="ended")[0]
        assert ended.title == "=Cafe" and ended.ended_on == dt.date(2026, 9, 1)
        assert register.show(session, ended.id).stages[-1][2] == "merged with the library"
    with pytest.raises(InvalidFile, match="already in the register as initiative"):
        io.import_register(store, out, actor="national")
    assert _count(store)[0] == 3


def test_xlsx_import_reads_dates_and_numbers(store: Store, tmp_path: Path) -> None:
    rows: list[list[object]] = [
        [
            "RA1",
            "shadowing",
            "Shadow days",
            None,
            None,
            None,
            dt.datetime(2027, 2, 1),
            None,
            None,
            "planned",
            None,
            3,
        ],
    ]
    assert io.import_register(store, _xlsx(tmp_path / "in.xlsx", rows), actor="n") == 1
    with store.session() as session:
        entry = register.list_entries(session)[0]
    assert entry.planned_start == dt.date(2027, 2, 1) and entry.progress == 3.0
    out = tmp_path / "out.xlsx"
    io.export_register(store, out)
    book = openpyxl.load_workbook(out, read_only=True)
    values = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    book.close()
    assert values[1][1:5] == ["RA1", "shadowing", "Shadow days", None]
    assert values[1][7] == "2027-02-01" and values[1][10] == "planned" and values[1][12] == "3.0"


def test_every_problem_is_listed_by_row_and_column_and_nothing_is_added(
    store: Store, tmp_path: Path
) -> None:
    bad = [
        GOOD[0],
        ["RA1", "paired_lerning", "x", "", "", "", "", "", "", "", "", ""],
        ["", "coaching", "", "", "", "", "2027-13-01", "", "", "", "", "6"],
        ["RA1", "coaching", "y", "", "", "", "2027-05-01", "", "2027-04-01", "ended", "", ""],
        ["RA1", "coaching", "z", "", "", "", "", "", "", "sleeping", "", ""],
        GOOD[0],
    ]
    with pytest.raises(InvalidFile) as refused:
        io.import_register(store, _csv(tmp_path / "bad.csv", bad), actor="n")
    got = {(p.row, p.column) for p in refused.value.problems}
    assert got == {
        (3, "kind"),
        (4, "trust"),
        (4, "title"),
        (4, "planned_start"),
        (4, "progress"),
        (5, "ended_on"),
        (5, "stage_reason"),
        (6, "stage"),
        (7, "title"),
    }
    messages = {(p.row, p.column): p.message for p in refused.value.problems}
    assert "did you mean 'paired_learning'" in messages[(3, "kind")]
    assert messages[(5, "ended_on")] == "2027-04-01 is before planned_start 2027-05-01"
    assert messages[(7, "title")] == "the same initiative is on row 2"
    assert _count(store) == (0, 0)


def test_header_problems_and_a_leads_import(store: Store, tmp_path: Path) -> None:
    header = ["trust", "kinds", "title", "Title "]
    with pytest.raises(InvalidFile) as refused:
        io.import_register(
            store, _csv(tmp_path / "h.csv", [["RA1", "x", "y", "z"]], header), actor="n"
        )
    assert set(refused.value.problems) >= {
        Problem(1, "kinds", "unknown column; did you mean 'kind'?"),
        Problem(1, "Title", "this column is given twice"),
        Problem(1, "kind", "required column is missing"),
    }
    with pytest.raises(InvalidFile) as refused:
        io.import_register(store, _csv(tmp_path / "in.csv", GOOD), actor="lead", trust="RA1")
    assert [(p.row, p.column) for p in refused.value.problems] == [(4, "trust")]
    assert _count(store) == (0, 0)
