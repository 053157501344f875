"""The exchange CSV reader: every rule, each with the row, column and message it gives."""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pytest
from exchange_rows import WriteFile

from sharedground.exchange import csvparse
from sharedground.exchange.problems import InvalidFile
from sharedground.exchange.reader import ExchangeFile, read_exchange_csv
from sharedground.instrument import Instrument

Found = list[tuple[int | None, str | None, str]]

HEADER = "respondent_id,role,trust,mode,submitted"
GOOD = "r1,chief_executive,RXA,online,2015-05-20"


def read(path: object, instrument: Instrument, **kwargs: Any) -> ExchangeFile:
    """Read a file that holds only the columns a test needs (the others count as missing)."""
    kwargs.setdefault("allow_missing_items", True)
    return read_exchange_csv(str(path), instrument, **kwargs)


def other_notes(result: ExchangeFile) -> list[str]:
    """The notes, without the one naming the missing item columns."""
    return [n for n in result.notes if "imported as unanswered" not in n]


def problems(path: object, instrument: Instrument, **kwargs: Any) -> Found:
    """The (row, column, message) of every problem the reader finds."""
    with pytest.raises(InvalidFile) as caught:
        read(path, instrument, **kwargs)
    assert "nothing was imported" in str(caught.value)
    return [(p.row, p.column, p.message) for p in caught.value.problems]


def one_problem(path: object, instrument: Instrument) -> tuple[int | None, str | None, str]:
    found = problems(path, instrument)
    assert len(found) == 1, found
    return found[0]


def csv_of(header: str, *rows: str) -> str:
    return "\n".join([header, *rows]) + "\n"


# -- a good file -----------------------------------------------------------------------------


def test_a_good_file_gives_canonical_strings(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(
        csv_of(
            f"{HEADER},local_rating,outlook_improve,barriers,initiatives:paired_learning,"
            "comments_final",
            f"{GOOD},4,tend_to_agree, lack_trust ; time_doctors ,no,  kept as typed  ",
            "r2,clinical_director,,paper,2015-5-1,,,none,,",
        )
    )
    result = read(path, dmr2015)
    assert other_notes(result) == []
    rows = result.frame.to_dicts()
    assert rows[0]["local_rating"] == "4"
    # Options come back in questionnaire order, spaces around them removed.
    assert rows[0]["barriers"] == "time_doctors;lack_trust"
    assert rows[0]["initiatives:paired_learning"] == "no"
    # Text is kept exactly as typed, surrounding spaces included.
    assert rows[0]["comments_final"] == "  kept as typed  "
    assert rows[1]["submitted"] == "2015-05-01"
    assert rows[1]["barriers"] == "none"
    assert rows[1]["trust"] is None and rows[1]["local_rating"] is None


def test_mode_column_may_be_left_out(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(csv_of("respondent_id,role", "r1,medical_director"))
    assert read(path, dmr2015).frame["mode"].to_list() == ["online"]
    assert read(path, dmr2015, default_mode="postal").frame["mode"].to_list() == ["postal"]


# -- the header ------------------------------------------------------------------------------


def test_unknown_column_suggests_the_nearest(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(csv_of("respondent_id,role,barrier", "r1,chief_executive,none"))
    row, column, message = one_problem(path, dmr2015)
    assert (row, column) == (1, "barrier")
    assert "unknown column for instrument dmr-2015@1" in message
    assert "did you mean 'barriers'?" in message


def test_unknown_column_without_a_near_name(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(csv_of("respondent_id,role,zzzz", "r1,chief_executive,1"))
    assert one_problem(path, dmr2015) == (1, "zzzz", "unknown column for instrument dmr-2015@1")


@pytest.mark.parametrize("missing", ["respondent_id", "role"])
def test_required_columns(write_file: WriteFile, dmr2015: Instrument, missing: str) -> None:
    header = ",".join(c for c in ("respondent_id", "role", "mode") if c != missing)
    path = write_file(csv_of(header, "x,online"))
    assert one_problem(path, dmr2015) == (1, missing, "required column is missing")


def test_duplicate_column_names_even_with_spaces(
    write_file: WriteFile, dmr2015: Instrument
) -> None:
    path = write_file(csv_of("respondent_id,role, role", "r1,chief_executive,chief_executive"))
    assert one_problem(path, dmr2015) == (1, "role", "this column name appears more than once")


def test_column_names_are_stripped(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(csv_of(" respondent_id , role ", "r1,chief_executive"))
    assert read(path, dmr2015).frame["respondent_id"].to_list() == ["r1"]


def test_unnamed_column(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(csv_of("respondent_id,role,", "r1,chief_executive,"))
    row, column, message = one_problem(path, dmr2015)
    assert (row, column) == (1, None)
    assert "column 3 of the header has no name" in message


def test_semicolon_separated_file(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(csv_of("respondent_id;role", "r1;chief_executive"))
    row, _, message = one_problem(path, dmr2015)
    assert row == 1 and "separated by semicolons, not commas" in message


def test_blank_first_line(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file("\nrespondent_id,role\nr1,chief_executive\n")
    row, _, message = one_problem(path, dmr2015)
    assert row == 1 and "must be the header" in message


# -- respondent ids --------------------------------------------------------------------------


def test_duplicate_ids_name_both_rows(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(
        csv_of(
            "respondent_id,role",
            "r1,chief_executive",
            "r2,chief_executive",
            "r1,medical_director",
            "r1,clinical_director",
        )
    )
    assert problems(path, dmr2015) == [
        (4, "respondent_id", "'r1' is also used on row 2"),
        (5, "respondent_id", "'r1' is also used on row 2"),
    ]


def test_blank_and_overlong_ids(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(
        csv_of("respondent_id,role", " ,chief_executive", f"{'x' * 101},chief_executive")
    )
    assert problems(path, dmr2015) == [
        (2, "respondent_id", "is blank; every row needs an id"),
        (3, "respondent_id", "is longer than 100 characters"),
    ]


# -- fixed columns ---------------------------------------------------------------------------


def test_bad_fixed_values(write_file: WriteFile, dmr2015: Instrument) -> None:
    tomorrow_but_one = (dt.date.today() + dt.timedelta(days=3)).isoformat()
    path = write_file(
        csv_of(
            HEADER,
            "r1,ceo,RXA,online,2015-05-20",
            "r2,,RXA,online,2015-05-20",
            "r3,chief_executive,RXA,email,2015-05-20",
            "r4,chief_executive,R X A,online,2015-05-20",
            "r5,chief_executive,RXA,online,20/05/2015",
            "r6,chief_executive,RXA,online,2015-02-30",
            f"r7,chief_executive,RXA,online,{tomorrow_but_one}",
        )
    )
    roles = "chief_executive | medical_director | directorate_manager | clinical_director"
    assert problems(path, dmr2015) == [
        (2, "role", f"'ceo' is not allowed; use {roles}"),
        (3, "role", f"blank is not allowed; use {roles}"),
        (4, "mode", "'email' is not allowed; use online | postal | paper"),
        (5, "trust", "'R X A' is not a code (letters, digits, - _ . ; up to 32)"),
        (6, "submitted", "'20/05/2015' is not a date; use YYYY-MM-DD"),
        (7, "submitted", "'2015-02-30' is not a date; use YYYY-MM-DD"),
        (8, "submitted", f"{tomorrow_but_one} is in the future"),
    ]


# -- item values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "allowed"),
    [
        (
            "outlook_improve",
            "agree",
            "strongly_agree | tend_to_agree | tend_to_disagree | strongly_disagree | dont_know",
        ),
        ("outlook_improve", "Strongly_Agree", "strongly_agree | tend_to_agree"),
        ("local_rating", "0", "1 | 2 | 3 | 4 | 5"),
        ("local_rating", "4.0", "1 | 2 | 3 | 4 | 5"),
        ("local_rating", "6", "1 | 2 | 3 | 4 | 5"),
        ("gender", "f", "female | male | other | prefer_not_to_say"),
        ("initiatives:paired_learning", "y", "yes | no | dont_know"),
    ],
)
def test_values_outside_the_scale(
    write_file: WriteFile, dmr2015: Instrument, column: str, value: str, allowed: str
) -> None:
    path = write_file(csv_of(f"respondent_id,role,{column}", f"r1,chief_executive,{value}"))
    row, found_column, message = one_problem(path, dmr2015)
    assert (row, found_column) == (2, column)
    assert message.startswith(f"{value!r} is not allowed; use {allowed}")
    assert message.endswith("or leave blank")


def test_every_bad_cell_is_reported_not_just_the_first(
    write_file: WriteFile, dmr2015: Instrument
) -> None:
    path = write_file(
        csv_of(
            "respondent_id,role,local_rating,outlook_improve",
            "r1,chief_executive,7,tend_to_agree",
            "r2,chief_executive,3,maybe",
            "r3,chief_executive,9,no",
        )
    )
    assert [(r, c) for r, c, _ in problems(path, dmr2015)] == [
        (2, "local_rating"),
        (3, "outlook_improve"),
        (4, "local_rating"),
        (4, "outlook_improve"),
    ]


# -- multi-choice ----------------------------------------------------------------------------


def multi_problem(write_file: WriteFile, dmr2015: Instrument, cell: str) -> str:
    path = write_file(csv_of("respondent_id,role,barriers", f'r1,chief_executive,"{cell}"'))
    row, column, message = one_problem(path, dmr2015)
    assert (row, column) == (2, "barriers")
    return message


def test_too_many_choices_exact_message(write_file: WriteFile, dmr2015: Instrument) -> None:
    rows = [f"r{i},chief_executive,time_doctors" for i in range(1, 16)]
    rows.append("r16,chief_executive,time_doctors;lack_trust;other;time_managers")
    path = write_file(csv_of("respondent_id,role,barriers", *rows))
    with pytest.raises(InvalidFile) as caught:
        read(path, dmr2015)
    assert [str(p) for p in caught.value.problems] == [
        "row 17, column barriers: 4 options chosen, at most 3 allowed"
    ]


def test_unknown_option(write_file: WriteFile, dmr2015: Instrument) -> None:
    message = multi_problem(write_file, dmr2015, "time_doctors;money")
    assert message.startswith("'money' is not an option; use option ids separated by ';'")
    assert "at most 3" in message and "time_doctors" in message and "'none'" in message


def test_empty_choice(write_file: WriteFile, dmr2015: Instrument) -> None:
    assert multi_problem(write_file, dmr2015, "time_doctors;").startswith("an empty choice")


def test_duplicate_option(write_file: WriteFile, dmr2015: Instrument) -> None:
    message = multi_problem(write_file, dmr2015, "lack_trust;lack_trust")
    assert message == "an option is given more than once"


def test_none_with_options(write_file: WriteFile, dmr2015: Instrument) -> None:
    message = multi_problem(write_file, dmr2015, "none;lack_trust")
    assert message == "'none' means nothing ticked and cannot go with options"


def test_multi_without_a_limit_takes_every_option(
    dmr2015: Instrument, write_file: WriteFile
) -> None:
    # factors_positive allows 3 as well; the limit comes from the instrument, not a constant.
    path = write_file(
        csv_of(
            "respondent_id,role,factors_positive",
            'r1,chief_executive,"keogh_review;francis_reports;social_media"',
        )
    )
    frame = read(path, dmr2015).frame
    assert frame["factors_positive"].to_list() == ["francis_reports;keogh_review;social_media"]


# -- text ------------------------------------------------------------------------------------


def test_text_too_long(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(
        csv_of("respondent_id,role,barriers_other", f"r1,chief_executive,{'é' * 501}")
    )
    assert one_problem(path, dmr2015) == (
        2,
        "barriers_other",
        "501 characters, at most 500 allowed",
    )


def test_text_at_the_limit_is_fine(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(
        csv_of("respondent_id,role,barriers_other", f"r1,chief_executive,{'é' * 500}")
    )
    assert read(path, dmr2015).frame["barriers_other"].str.len_chars()[0] == 500


# -- encodings and line endings --------------------------------------------------------------


def test_utf8_bom_is_accepted_with_a_note(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(b"\xef\xbb\xbf" + csv_of("respondent_id,role", "r1,chief_executive").encode())
    result = read(path, dmr2015)
    assert other_notes(result) == ["a UTF-8 byte-order mark was skipped"]
    assert result.frame.columns[0] == "respondent_id"


def test_windows_line_endings(write_file: WriteFile, dmr2015: Instrument) -> None:
    text = 'respondent_id,role,comments_final\r\nr1,chief_executive,"two\r\nlines"\r\n'
    result = read(write_file(text), dmr2015)
    assert other_notes(result) == ["Windows line endings were read as plain newlines"]
    # The canonical line break inside text is "\n".
    assert result.frame["comments_final"].to_list() == ["two\nlines"]


def test_old_mac_line_endings_are_named_as_such(write_file: WriteFile, dmr2015: Instrument) -> None:
    text = 'respondent_id,role,comments_final\rr1,chief_executive,"two\rlines"\r'
    result = read(write_file(text), dmr2015)
    assert other_notes(result) == ["old Mac line endings (CR only) were read as plain newlines"]
    assert result.frame["comments_final"].to_list() == ["two\nlines"]


def test_mixed_line_endings_are_counted(write_file: WriteFile, dmr2015: Instrument) -> None:
    text = "respondent_id,role\r\nr1,chief_executive\rr2,chief_executive\nr3,medical_director\n"
    result = read(write_file(text), dmr2015)
    assert other_notes(result) == [
        "mixed line endings (1 Windows (CR LF), 1 old Mac (CR), 2 Unix (LF)) were all read as "
        "plain newlines"
    ]
    assert result.frame["respondent_id"].to_list() == ["r1", "r2", "r3"]


# -- a first line that is not a header -------------------------------------------------------


@pytest.mark.parametrize(
    "first_line",
    [
        # The case of the issue: blank cells and repeated values (a TypeError before).
        "T001,chief_executive,,online,2015-06-02,2,tend_to_agree,tend_to_agree,,",
        "T001,chief_executive,RXA,online,2015-06-02",
        "1,2,3",
    ],
)
def test_a_data_row_first_is_a_file_level_no_header_message(
    write_file: WriteFile, dmr2015: Instrument, first_line: str
) -> None:
    width = len(first_line.split(","))
    second = ",".join(["T002", "medical_director", *[""] * (width - 2)])
    row, column, message = one_problem(write_file(csv_of(first_line, second)), dmr2015)
    assert (row, column) == (None, None)
    assert message.startswith("no header row: the first line (")
    assert "respondent_id, role, trust, mode" in message


def test_a_header_with_one_known_name_is_a_header(
    write_file: WriteFile, dmr2015: Instrument
) -> None:
    """Problems of a real header (a blank and a repeated name) are listed, not 'no header'."""
    found = problems(write_file(csv_of("respondent_id,,x,x", "r1,a,b,c")), dmr2015)
    assert (1, None, "column 2 of the header has no name; name it or delete the column") in found
    assert (1, "x", "this column name appears more than once") in found


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_refused_on_line_1(
    write_file: WriteFile, dmr2015: Instrument, encoding: str
) -> None:
    path = write_file(csv_of("respondent_id,role", "r1,chief_executive").encode(encoding))
    row, column, message = one_problem(path, dmr2015)
    assert (row, column) == (1, None)
    assert "UTF-16" in message and "CSV UTF-8" in message


def test_latin1_is_refused_naming_the_line(write_file: WriteFile, dmr2015: Instrument) -> None:
    text = csv_of(
        "respondent_id,role,comments_final", "r1,chief_executive,ok", "r2,chief_executive,café"
    )
    row, column, message = one_problem(write_file(text.encode("latin-1")), dmr2015)
    assert (row, column) == (3, None)
    assert message.startswith("line 3 is not UTF-8 text (byte 0xe9")
    assert "Latin-1" in message


def test_an_excel_workbook_is_refused(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(b"PK\x03\x04" + b"\x14\x00" * 20, name="responses.csv")
    assert "Excel workbook" in one_problem(path, dmr2015)[2]


# -- the shape of the file -------------------------------------------------------------------


@pytest.mark.parametrize("content", [b"", b"   \n\n", b"\r\n"])
def test_empty_file(write_file: WriteFile, dmr2015: Instrument, content: bytes) -> None:
    assert one_problem(write_file(content), dmr2015) == (None, None, "the file is empty")


@pytest.mark.parametrize(
    "content", ["respondent_id,role\n", "respondent_id,role", "respondent_id,role\n,\n\n"]
)
def test_header_only(write_file: WriteFile, dmr2015: Instrument, content: str) -> None:
    assert one_problem(write_file(content), dmr2015) == (
        None,
        None,
        "the file has a header but no rows",
    )


def test_missing_file(tmp_path: object, dmr2015: Instrument) -> None:
    assert one_problem(f"{tmp_path}/absent.csv", dmr2015) == (None, None, "no such file")


def test_a_folder(tmp_path: object, dmr2015: Instrument) -> None:
    assert one_problem(tmp_path, dmr2015) == (None, None, "is a folder, not a file")


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("r2,chief_executive,none,extra", "has 4 cells but the header has 3"),
        ("r2,chief_executive", "has 2 cells but the header has 3"),
    ],
)
def test_ragged_rows(write_file: WriteFile, dmr2015: Instrument, row: str, expected: str) -> None:
    path = write_file(csv_of("respondent_id,role,barriers", "r1,chief_executive,none", row))
    assert one_problem(path, dmr2015) == (3, None, expected)


def test_ragged_row_after_a_multiline_cell_is_numbered_as_a_spreadsheet_row(
    write_file: WriteFile, dmr2015: Instrument
) -> None:
    path = write_file(
        csv_of(
            "respondent_id,role,comments_final",
            'r1,chief_executive,"three\nline\ncomment, with a comma"',
            "r2,chief_executive",
        )
    )
    assert one_problem(path, dmr2015) == (3, None, "has 2 cells but the header has 3")


def test_value_error_after_a_multiline_cell_names_the_record(
    write_file: WriteFile, dmr2015: Instrument
) -> None:
    path = write_file(
        csv_of(
            "respondent_id,role,comments_final,local_rating",
            'r1,chief_executive,"a ""quoted""\nsecond line",5',
            "r2,chief_executive,,8",
        )
    )
    assert one_problem(path, dmr2015)[:2] == (3, "local_rating")


def test_unclosed_quote(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(
        csv_of(
            "respondent_id,role,comments_final",
            "r1,chief_executive,fine",
            'r2,chief_executive,"never closed',
            "r3,chief_executive,x",
        )
    )
    row, _, message = one_problem(path, dmr2015)
    assert row == 3
    assert "starts on line 3 is never closed" in message


def test_stray_quote_in_an_unquoted_cell(write_file: WriteFile, dmr2015: Instrument) -> None:
    path = write_file(
        csv_of(
            "respondent_id,role,comments_final",
            'r1,chief_executive,a 5" screen',
            "r2,chief_executive,x",
        )
    )
    row, column, message = one_problem(path, dmr2015)
    assert (row, column) == (2, "comments_final")
    assert "wrap the cell in quotes and double the quote" in message


def test_blank_rows_are_skipped_and_later_rows_keep_their_numbers(
    write_file: WriteFile, dmr2015: Instrument
) -> None:
    good = csv_of("respondent_id,role", "r1,chief_executive", "", ",", "r2,medical_director", "")
    result = read(write_file(good), dmr2015)
    assert result.frame["respondent_id"].to_list() == ["r1", "r2"]
    assert other_notes(result) == ["3 blank rows were skipped"]  # two in the middle, one at the end
    bad = csv_of("respondent_id,role", "r1,chief_executive", "", "r2,boss")
    assert one_problem(write_file(bad), dmr2015)[:2] == (4, "role")


def test_problems_are_capped_per_column(write_file: WriteFile, dmr2015: Instrument) -> None:
    rows = [f"r{i},chief_executive,9" for i in range(100)]
    found = problems(write_file(csv_of("respondent_id,role,local_rating", *rows)), dmr2015)
    assert len(found) == 20
    with pytest.raises(InvalidFile) as caught:
        read(write_file(csv_of("respondent_id,role,local_rating", *rows)), dmr2015)
    # The message lists the problems with the file name, each on its own line.
    lines = str(caught.value).splitlines()
    assert lines[0].endswith("20 problem(s); nothing was imported")
    assert (
        lines[1]
        .strip()
        .endswith(
            "row 2, column local_rating: '9' is not allowed; use 1 | 2 | 3 | 4 | 5 or leave blank"
        )
    )


# -- the fast layout check -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "ok"),
    [
        ('r1,"a, ""b""\nc,d",x\nr2,,\n', True),
        ('r1,"a\n\n,,\n",x\n\nr2,"""",\n', True),
        ('r1,"a\nb"\nr2,,\n', False),
        ("r1,a,b\nr2,c\n", False),
        ('r1,"x,y",z\nr2,"p\nq"\n', False),
    ],
)
def test_layout_check_fast_path(body: str, ok: bool) -> None:
    # The vectorised check must pass good files itself (else every import would fall back
    # to the slow csv module) and must never pass a file with a short or long record.
    data = f"h1,h2,h3\n{body}".encode()
    frame = pl.read_csv(data, infer_schema=False, truncate_ragged_lines=True)
    assert csvparse._layout_ok(data, frame) is ok
