"""Importing a sample frame: whole file or nothing, one person once per wave, opting out."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest
from fieldhelpers import ROLES, Frame, write_contacts

from sharedground.exchange.problems import InvalidFile
from sharedground.fieldwork.contacts import find_contact, import_contacts, opt_out
from sharedground.store import Store


def test_import_adds_every_row_with_its_trust_and_role(frame: Frame) -> None:
    contacts = frame.contacts()
    assert len(contacts) == 40
    assert {c.role for c in contacts} == set(ROLES)
    assert contacts[0].email == "person0@example.org"
    assert contacts[0].postal_address is not None and "High Street" in contacts[0].postal_address
    assert len({c.organisation_id for c in contacts}) == 3


def test_bad_file_is_refused_whole_with_rows_and_columns(frame: Frame, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "name,email,role,trust\n"
        "Good,good@example.org,chief_executive,RA1\n"
        "A,not-an-address,chief_executive,RA1\n"
        "B,b@example.org,boss,RA1\n"
        "C,c@example.org,medical_director,\n"
        "D,C@EXAMPLE.ORG,medical_director,RA1\n"
        "E,e@example.org,medical_director,RA1\n"
        "F,E@example.org,medical_director,RA1\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidFile) as caught:
        import_contacts(frame.store, bad, frame.wave)
    found = {(p.row, p.column) for p in caught.value.problems}
    assert found == {(3, "email"), (4, "role"), (5, "trust"), (8, "email")}
    assert "row 7" in str(caught.value)  # the duplicate names the first row
    assert len(frame.contacts()) == 40  # nothing added, not even the good row


def test_unknown_column_is_named_with_a_suggestion(frame: Frame, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("name,emial,role,trust\nA,a@example.org,chief_executive,RA1\n")
    with pytest.raises(InvalidFile) as caught:
        import_contacts(frame.store, bad, frame.wave)
    assert (1, "emial") in {(p.row, p.column) for p in caught.value.problems}
    assert "did you mean 'email'" in str(caught.value)


def test_same_person_once_per_wave(frame: Frame, tmp_path: Path) -> None:
    again = write_contacts(tmp_path / "again.csv", 3, start=38)  # 38, 39 known; 40 new
    with pytest.raises(InvalidFile) as caught:
        import_contacts(frame.store, again, frame.wave)
    assert sorted(p.row for p in caught.value.problems) == [2, 3]
    assert len(frame.contacts()) == 40
    fresh = write_contacts(tmp_path / "fresh.csv", 2, start=40)
    import_contacts(frame.store, fresh, frame.wave)
    assert len(frame.contacts()) == 42


def test_xlsx_is_read_like_csv(store: Store, frame: Frame, tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Name", "Email", "Postal address", "Role", "Trust", "Directorate"])
    sheet.append(["X Y", "xy@example.org", "1 Lane", "clinical_director", 123, "Surgery"])
    sheet.append([None, None, None, None, None, None])
    path = tmp_path / "c.xlsx"
    book.save(path)
    summary = import_contacts(store, path, frame.wave)
    assert summary.added == 1
    with store.session() as session:
        wave = store.get_wave(session, frame.wave)
        contact = find_contact(session, wave, "XY@example.org")
        assert contact is not None and contact.directorate == "Surgery"


def _formula_book(path: Path, directorate: str, trust: object = "RA1") -> Path:
    """A workbook as a script writes it: openpyxl saves formulas without a value."""
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Frame"
    sheet.append(["Name", "Email", "Role", "Trust", "Directorate"])
    sheet.append(["A B", "ab@example.org", "clinical_director", "RA1", "Medicine"])
    sheet.append(["X Y", "xy@example.org", "clinical_director", trust, directorate])
    book.save(path)
    return path


def test_xlsx_formula_without_a_value_is_warned_with_its_cell(frame: Frame, tmp_path: Path) -> None:
    path = _formula_book(tmp_path / "f.xlsx", '=CONCAT("Sur", "gery")')
    summary = import_contacts(frame.store, path, frame.wave)
    assert summary.added == 2
    [warning] = summary.warnings
    assert (warning.row, warning.column) == (3, "Directorate")
    assert warning.message.startswith(
        'sheet \'Frame\', cell E3: the formula =CONCAT("Sur", "gery") has no saved value and '
        "was read as blank"
    )
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        contact = find_contact(session, wave, "xy@example.org")
        assert contact is not None and contact.directorate is None


def test_xlsx_formula_with_a_saved_value_is_read_without_a_warning(
    frame: Frame, tmp_path: Path
) -> None:
    import xlsxwriter

    path = tmp_path / "saved.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        sheet = book.add_worksheet("Frame")
        sheet.write_row(0, 0, ["Name", "Email", "Role", "Trust", "Directorate"])
        sheet.write_row(1, 0, ["X Y", "xy@example.org", "clinical_director", "RA1"])
        sheet.write_formula(1, 4, '=CONCAT("Sur", "gery")', None, "Surgery")
    summary = import_contacts(frame.store, path, frame.wave)
    assert (summary.added, summary.warnings) == (1, ())
    with frame.store.session() as session:
        wave = frame.store.get_wave(session, frame.wave)
        contact = find_contact(session, wave, "xy@example.org")
        assert contact is not None and contact.directorate == "Surgery"


def test_a_refused_xlsx_lists_the_formula_that_read_as_blank(frame: Frame, tmp_path: Path) -> None:
    path = _formula_book(tmp_path / "t.xlsx", "Surgery", trust='=LEFT("RA1", 3)')
    before = len(frame.contacts())
    with pytest.raises(InvalidFile) as caught:
        import_contacts(frame.store, path, frame.wave)
    found = [(p.row, p.column, p.message) for p in caught.value.problems]
    assert found[0][:2] == (3, "Trust") and "has no saved value" in found[0][2]
    assert found[1][:2] == (3, "trust") and found[1][2].startswith("missing")
    assert len(frame.contacts()) == before


def test_opt_out_is_recorded_once(frame: Frame) -> None:
    first = frame.contacts()[0]
    with frame.store.session() as session:
        assert opt_out(session, first.id) is True
        assert opt_out(session, first.id) is False
    assert frame.contacts()[0].opted_out_at is not None


def test_a_contacts_csv_without_a_header_row_says_so(frame: Frame, tmp_path: Path) -> None:
    path = tmp_path / "no-header.csv"
    path.write_text(
        "A,a@example.org,chief_executive,RA1,\nB,b@example.org,chief_executive,RA1,\n",
        encoding="utf-8",
    )
    with pytest.raises(InvalidFile) as caught:
        import_contacts(frame.store, path, frame.wave)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (None, None)
    assert problem.message.startswith("no header row: the first line ('A', 'a@example.org'")
