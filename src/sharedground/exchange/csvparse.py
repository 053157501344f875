"""Turning the bytes of a CSV file into a frame of strings, or saying exactly why not.

Spreadsheets save CSV in many ways. UTF-8 with or without a byte-order mark and Windows
or old Mac line endings are accepted (and noted, saying which were found); UTF-16, Latin-1,
workbooks, semicolon-separated files, a first line that is not a header, rows with too few
or too many cells and broken quoting are refused with the row (or line) to look at. Line
breaks inside cells are read as "\\n" whatever the file used, so the canonical form has no
"\\r".
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Collection

import polars as pl

from sharedground.exchange.problems import InvalidFile, Problem

MAX_LAYOUT_PROBLEMS = 20


_SAVE_AS = "save it from the spreadsheet as 'CSV UTF-8' and try again"


def decode(name: str, raw: bytes, notes: list[str]) -> str:
    """The file's text with "\\n" line breaks; notes say what was tolerated."""
    return decode_bytes(name, raw, notes).decode("utf-8")


def parse(name: str, text: str, known: Collection[str] | None = None) -> pl.DataFrame:
    """Every cell as a string (null when empty), the header giving the column names.

    With `known` (the column names the file may have, compared without case or
    surrounding spaces), a first line naming none of them is taken for a data row: the
    file is refused as having no header row.
    """
    return parse_bytes(name, text.encode("utf-8"), known)


def decode_bytes(name: str, raw: bytes, notes: list[str]) -> bytes:
    """The file checked to be UTF-8 text, with "\\n" line breaks, still as bytes.

    A national file is about a gigabyte: keeping it as bytes (which Polars reads) instead
    of also holding a Python string saves that much memory.
    """
    if not raw or raw.isspace():  # not raw.strip(): that would copy a gigabyte
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
    bad = _first_bad_utf8(raw)
    if bad is not None:
        line = raw[:bad].count(b"\n") + 1
        byte = raw[bad : bad + 1].hex()
        raise InvalidFile(
            name,
            [
                Problem(
                    line,
                    None,
                    f"line {line} is not UTF-8 text (byte 0x{byte} at offset {bad}; "
                    f"perhaps Latin-1 or Windows-1252); {_SAVE_AS}",
                )
            ],
        )
    if b"\r" in raw:
        # Line breaks inside text cells become "\n" too: the canonical form has no "\r".
        notes.append(_line_endings_note(raw))
        raw = raw.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    return raw


def _line_endings_note(raw: bytes) -> str:
    """What the file's line breaks were, in words (it holds at least one "\r").

    A lone "\n" beside "\r\n" is a line break inside a cell, as Excel writes them.
    """
    crlf = raw.count(b"\r\n")
    cr = raw.count(b"\r") - crlf
    lf = raw.count(b"\n") - crlf
    if not cr:
        return "Windows line endings were read as plain newlines"
    if not crlf and not lf:
        return "old Mac line endings (CR only) were read as plain newlines"
    found = [
        f"{n} {label}"
        for n, label in ((crlf, "Windows (CR LF)"), (cr, "old Mac (CR)"), (lf, "Unix (LF)"))
        if n
    ]
    return f"mixed line endings ({', '.join(found)}) were all read as plain newlines"


def _first_bad_utf8(raw: bytes, chunk: int = 1 << 24) -> int | None:
    """The offset of the first byte that is not UTF-8, decoding in pieces to save memory."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(raw)
    for start in range(0, len(raw), chunk):
        piece = view[start : start + chunk]
        try:
            decoder.decode(piece, final=start + chunk >= len(raw))
        except UnicodeDecodeError as exc:
            # The decoder may hold back up to 3 bytes of a character begun in the last piece.
            held = len(exc.object) - len(piece)
            return start - held + exc.start
    return None


def parse_bytes(name: str, data: bytes, known: Collection[str] | None = None) -> pl.DataFrame:
    """`parse` for the bytes `decode_bytes` gives."""
    head = _head(data)
    header = _header_problems(head, known)
    if header:
        raise InvalidFile(name, header)
    # Checked before the frame is read so that the two never take memory at once.
    records = _layout_records(data, len(next(csv.reader(io.StringIO(head)))))
    try:
        frame = pl.read_csv(data, infer_schema=False, has_header=True, raise_if_empty=True)
    except (pl.exceptions.ComputeError, pl.exceptions.NoDataError, pl.exceptions.ShapeError):
        # Polars does not say where a ragged row is; the csv module does.
        raise InvalidFile(name, _locate_csv_problem(data.decode("utf-8"))) from None
    if records != frame.height + 1:
        # Polars pads short rows with blanks; the csv module finds them (and unclosed quotes).
        problems = _locate_csv_problem(data.decode("utf-8"), required=False)
        if problems:
            raise InvalidFile(name, problems)
    return frame


def _head(data: bytes, size: int = 1 << 16) -> str:
    """Enough of the file to hold the header (all of it when the header is that long)."""
    head = data[:size].decode("utf-8", errors="ignore")
    if len(data) > size and "\n" not in head:
        return data.decode("utf-8")
    return head


def _header_problems(text: str, known: Collection[str] | None = None) -> list[Problem]:
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
    if known is not None and _no_header(header, known):
        shown = ", ".join(repr(h) for h in header[:3]) + (", ..." if len(header) > 3 else "")
        return [
            Problem(
                None,
                None,
                f"no header row: the first line ({shown}) names none of the columns; "
                f"add a first line of column names ({', '.join(list(known)[:4])}, ...)",
            )
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
    # Sorted by a key: a problem without a column (None) cannot be compared with a name.
    return sorted(set(problems), key=lambda p: (p.row or 0, p.column or "", p.message))


def _no_header(header: list[str], known: Collection[str]) -> bool:
    """True when no cell of the first line is a known column name."""
    names = {k.strip().lower() for k in known}
    return not any(h.strip().lower() in names for h in header)


def _layout_ok(data: bytes, frame: pl.DataFrame) -> bool:
    """True when every record of `data` has as many cells as `frame` has columns."""
    return _layout_records(data, frame.width) == frame.height + 1


def _layout_records(data: bytes, width: int) -> int | None:
    """The number of records, header included, when every one has `width` cells; else None.

    A fast, vectorised check.

    Records are found from the lines: a line continues a record when an odd number of
    quotes came before it. Commas inside quotes are not separators, so quoted parts are
    removed before counting (a doubled quote `""` inside a cell closes and reopens the
    quotes, which comes to the same). A record has one cell more than it has commas.
    """
    try:
        lines = pl.read_csv(
            data, has_header=False, separator="\x1f", quote_char=None, schema={"line": pl.String}
        )
    except pl.exceptions.PolarsError:
        return None  # a line holding the unit separator: let the csv module decide
    line = pl.col("line").fill_null("")
    quotes = pl.col("quotes")
    counted = lines.select(
        pl.col("line"),
        line.str.count_matches('"', literal=True).alias("quotes"),
        line.str.count_matches(",", literal=True).alias("commas"),
    )
    del lines
    if int(counted["quotes"].sum()) % 2:
        return None  # a quote is never closed
    counted = counted.with_columns(
        ((quotes.cum_sum() - quotes) % 2 == 1).alias("continues")
    ).with_columns((~pl.col("continues")).cum_sum().alias("record"))
    records = int(counted["record"].max() or 0)  # type: ignore[arg-type]
    # Most lines are whole records without quotes: their commas are all separators.
    plain = (quotes == 0) & ~pl.col("continues")
    # A line without quotes cannot be continued by the next, so these are whole records.
    single = counted.filter(plain & pl.col("line").is_not_null() & (pl.col("commas") + 1 != width))
    if single.height:
        return None
    quoted = counted.filter(
        pl.col("record").is_in(counted.filter(~plain)["record"].unique().implode())
    ).drop("commas")
    outside = (
        pl.when(pl.col("continues") & (quotes == 0))
        .then(pl.lit(""))  # wholly inside a cell begun on an earlier line
        .when(pl.col("continues"))
        .then(line.str.replace(r'^[^"]*"', ""))
        .otherwise(line)
        .str.replace_all(r'"[^"]*"', "")
        .str.replace(r'"[^"]*$', "")
    )
    wrong = (
        quoted.select(
            pl.col("record"), outside.str.count_matches(",", literal=True).alias("commas")
        )
        .group_by("record")
        .agg(pl.col("commas").sum())
        .filter(pl.col("commas") + 1 != width)
    )
    return records if wrong.height == 0 else None


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
                    Problem(
                        number, None, f"has {_cells(len(row))} but the header has {len(header)}"
                    )
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
