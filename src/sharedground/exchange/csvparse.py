"""Turning the bytes of a CSV file into a frame of strings, or saying exactly why not.

Spreadsheets save CSV in many ways. UTF-8 with or without a byte-order mark and Windows
line endings are accepted (and noted); UTF-16, Latin-1, workbooks, semicolon-separated
files, rows with too few or too many cells and broken quoting are refused with the row
(or line) to look at. Line breaks inside cells are read as "\\n" whatever the file used,
so the canonical form has no "\\r".
"""

from __future__ import annotations

import csv
import io

import polars as pl

from sharedground.exchange.problems import InvalidFile, Problem

MAX_LAYOUT_PROBLEMS = 20


_SAVE_AS = "save it from the spreadsheet as 'CSV UTF-8' and try again"


def decode(name: str, raw: bytes, notes: list[str]) -> str:
    """The file's text with "\\n" line breaks; notes say what was tolerated."""
    if not raw.strip():
        raise InvalidFile(name, [Problem(None, None, "the file is empty")])
    if raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]
        notes.append("a UTF-8 byte-order mark was skipped")
    if raw.startswith(b"PK\x03\x04"):
        raise InvalidFile(
            name,
            [
                Problem(
                    None, None, f"this is an Excel workbook (or a zip file), not CSV; {_SAVE_AS}"
                )
            ],
        )
    # UTF-16 puts a NUL byte beside every ASCII character, with or without a byte-order mark.
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in raw[:2]:
        raise InvalidFile(
            name,
            [Problem(1, None, f"the file looks like UTF-16 text, not UTF-8; {_SAVE_AS}")],
        )
    nul = raw.find(b"\x00")
    if nul >= 0:
        line = raw[:nul].count(b"\n") + 1
        raise InvalidFile(
            name,
            [Problem(line, None, f"holds a NUL byte (offset {nul}): not a text file; {_SAVE_AS}")],
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        byte = raw[exc.start : exc.start + 1].hex()
        raise InvalidFile(
            name,
            [
                Problem(
                    line,
                    None,
                    f"line {line} is not UTF-8 text (byte 0x{byte} at offset {exc.start}; "
                    f"perhaps Latin-1 or Windows-1252); {_SAVE_AS}",
                )
            ],
        ) from None
    if "\r" in text:
        # Line breaks inside text cells become "\n" too: the canonical form has no "\r".
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        notes.append("Windows line endings were read as plain newlines")
    return text


def parse(name: str, text: str) -> pl.DataFrame:
    """Every cell as a string (null when empty), the header giving the column names."""
    header = _header_problems(text)
    if header:
        raise InvalidFile(name, header)
    data = text.encode()
    try:
        frame = pl.read_csv(data, infer_schema=False, has_header=True, raise_if_empty=True)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, pl.exceptions.ShapeError):
        # Polars does not say where a ragged row is; the csv module does.
        raise InvalidFile(name, _locate_csv_problem(text)) from None
    if not _layout_ok(data, frame):
        # Polars pads short rows with blanks; the csv module finds them (and unclosed quotes).
        problems = _locate_csv_problem(text, required=False)
        if problems:
            raise InvalidFile(name, problems)
    return frame


def _header_problems(text: str) -> list[Problem]:
    try:
        header = next(csv.reader(io.StringIO(text)), [])
    except csv.Error as exc:
        return [Problem(1, None, f"the header cannot be read as CSV: {exc}")]
    if not header:
        return [Problem(1, None, "the first line must be the header (column names) but is blank")]
    if len(header) == 1 and (";" in header[0] or "\t" in header[0]):
        separator = "semicolons" if ";" in header[0] else "tabs"
        return [
            Problem(1, None, f"the columns are separated by {separator}, not commas; {_SAVE_AS}")
        ]
    problems = [
        Problem(1, None, f"column {i} of the header has no name; name it or delete the column")
        for i, h in enumerate(header, start=1)
        if not h.strip()
    ]
    seen: set[str] = set()
    for h in header:
        h = h.strip()
        if h and h in seen:
            problems.append(Problem(1, h, "this column name appears more than once"))
        seen.add(h)
    return sorted(set(problems))


def _layout_ok(data: bytes, frame: pl.DataFrame) -> bool:
    """True when every record has as many fields as the header (a fast, vectorised check).

    Records are found from the lines: a line starts a record unless an odd number of
    quotes came before it. A record without quotes has one field more than it has commas;
    for the few with quotes, quoted parts are removed before counting.
    """
    try:
        lines = pl.read_csv(
            data, has_header=False, separator="\x1f", quote_char=None, schema={"line": pl.String}
        )
    except pl.exceptions.PolarsError:
        return False  # a line holding the unit separator: let the csv module decide
    counted = lines.with_columns(
        pl.col("line").str.count_matches('"', literal=True).fill_null(0).alias("quotes"),
        pl.col("line").str.count_matches(",", literal=True).fill_null(0).alias("commas"),
    ).with_columns(
        ((pl.col("quotes").cum_sum() - pl.col("quotes")) % 2 == 1).alias("continues"),
    )
    if counted["quotes"].sum() % 2:
        return False  # a quote is never closed
    counted = counted.with_columns((~pl.col("continues")).cum_sum().alias("record"))
    width = frame.width
    plain = counted.filter(
        ~pl.col("record").is_in(
            counted.filter((pl.col("quotes") > 0) | pl.col("continues"))["record"].implode()
        )
    )
    if plain.filter(pl.col("line").is_not_null() & (pl.col("commas") + 1 != width)).height:
        return False
    quoted = (
        counted.filter(~pl.col("record").is_in(plain["record"].implode()))
        .group_by("record", maintain_order=True)
        .agg(pl.col("line").fill_null("").str.join("\n"))
        .with_columns(
            pl.col("line").str.replace_all('"[^"]*"', "").str.count_matches(",", literal=True)
        )
    )
    if quoted.filter(pl.col("line") + 1 != width).height:
        return False
    records: int = counted.height and counted.select(pl.col("record").max()).item()
    return records == frame.height + 1


def _locate_csv_problem(text: str, required: bool = True) -> list[Problem]:
    """Rows with the wrong number of fields, or bad quoting, found with the csv module.

    With `required` false, finding nothing is not itself a problem (the caller's fast
    check was only unsure).
    """
    reader = csv.reader(io.StringIO(text), strict=True)
    try:
        header = next(reader)
    except (StopIteration, csv.Error):
        return [Problem(None, None, "not a CSV file with a header row")]
    problems: list[Problem] = []
    lines = text.split("\n")
    number, next_start = 1, reader.line_num + 1
    try:
        for number, row in enumerate(reader, start=2):
            start, next_start = next_start, reader.line_num + 1
            if required and not problems:
                stray = _stray_quote(row, "\n".join(lines[start - 1 : next_start - 1]))
                if stray is not None:
                    problems.append(
                        Problem(
                            number,
                            header[stray] if stray < len(header) else None,
                            'holds a " inside a cell that is not wrapped in quotes; wrap the '
                            'cell in quotes and double the quote ("5"" screen")',
                        )
                    )
            if len(row) != len(header) and any(cell.strip() for cell in row):
                problems.append(
                    Problem(number, None, f"has {_cells(len(row))} but the header has {len(header)}")
                )
                if len(problems) >= MAX_LAYOUT_PROBLEMS:
                    break
    except csv.Error as exc:
        row_number = number + 1
        if "unexpected end of data" in str(exc):
            message = (
                f'a quoted cell that starts on line {next_start} is never closed (a " is '
                "missing), so the rest of the file was read into it"
            )
        else:
            message = (
                f"cannot be read as CSV ({exc}); a cell holding quotes must be wrapped in "
                'quotes, with each quote inside doubled ("")'
            )
        problems.append(Problem(row_number, None, message))
    if problems or not required:
        return problems
    return [Problem(None, None, "cannot be read as CSV")]


def _cells(n: int) -> str:
    return "1 cell" if n == 1 else f"{n} cells"


def _stray_quote(row: list[str], raw: str) -> int | None:
    """The index of a cell whose quote is not escaped as CSV wants (Polars refuses those)."""
    for i, cell in enumerate(row):
        if '"' in cell and f'"{cell.replace(chr(34), chr(34) * 2)}"' not in raw:
            return i
    return None
