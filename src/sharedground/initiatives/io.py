"""The register as a file: import (CSV or XLSX, all rows or none) and export.

A national team loads what trusts already run from a spreadsheet, one initiative a row:

    trust, kind, title, description, directorates, owner, planned_start, actual_start,
    ended_on, stage, stage_reason, progress

`directorates` holds names separated by `;` (empty for the whole trust); dates are ISO
(`2027-01-31`); `progress` is on the IHI scale (0.5-5.0). The whole file is checked before
anything is written; every problem is listed with its row and column, and a file with any
problem adds nothing. A row that repeats an initiative already in the register (same trust,
kind, title and planned start) is a problem too, so loading the same file twice adds
nothing the second time. An export holds the same columns after `id`; importing it into
another database ignores `id`.
"""

from __future__ import annotations

import csv
import datetime as dt
import difflib
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from sharedground.exchange import csvparse
from sharedground.exchange.formulas import neutralise, restore
from sharedground.exchange.problems import InvalidFile, Problem
from sharedground.exchange.reader import TRUST_CODE
from sharedground.initiatives import register
from sharedground.initiatives.errors import InitiativeError
from sharedground.initiatives.models import Initiative
from sharedground.store import Organisation, Store

COLUMNS = (
    "trust",
    "kind",
    "title",
    "description",
    "directorates",
    "owner",
    "planned_start",
    "actual_start",
    "ended_on",
    "stage",
    "stage_reason",
    "progress",
)
REQUIRED = ("trust", "kind", "title")
IGNORED = ("id",)
MAX_PROBLEMS = 200

Rows = list[tuple[int, list[str | None]]]


# -- reading a table file (shared with the cohort import) ------------------------------------


def read_table(path: str | Path, known: tuple[str, ...]) -> tuple[list[str], Rows]:
    """The header and rows (numbered as a spreadsheet numbers them) of a CSV or XLSX file."""
    name = str(path)
    path = Path(path)
    if not path.is_file():
        raise InvalidFile(name, [Problem(None, None, "no such file")])
    if path.suffix.lower() == ".xlsx":
        return _read_xlsx(path)
    text = csvparse.decode(name, path.read_bytes(), [])
    frame = csvparse.parse(name, text, known=known)
    rows: Rows = [
        (i + 2, [None if c is None else restore(c) for c in row])
        for i, row in enumerate(frame.iter_rows())
    ]
    return list(frame.columns), rows


def _read_xlsx(path: Path) -> tuple[list[str], Rows]:
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise InvalidFile(
            str(path), [Problem(None, None, f"cannot be read as an Excel workbook ({exc})")]
        ) from None
    try:
        values = [list(r) for r in book.worksheets[0].iter_rows(values_only=True)]
    finally:
        book.close()
    if not values:
        raise InvalidFile(str(path), [Problem(None, None, "the first sheet is empty")])
    header = [str(c).strip() if c is not None else "" for c in values[0]]
    return header, [(i + 2, [_cell(c) for c in r]) for i, r in enumerate(values[1:])]


def _cell(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):  # Excel keeps dates as datetimes
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def map_header(
    name: str, header: list[str], columns: tuple[str, ...], required: tuple[str, ...]
) -> dict[str, int]:
    """Column name -> index; InvalidFile names unknown, doubled and missing columns."""
    found: dict[str, int] = {}
    problems = []
    for index, raw in enumerate(header):
        label = raw.strip().lower().replace(" ", "_")
        if label in columns:
            if label in found:
                problems.append(Problem(1, raw.strip(), "this column is given twice"))
            found[label] = index
        elif label and label not in IGNORED:
            close = difflib.get_close_matches(label, columns, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; use {', '.join(columns)}"
            problems.append(Problem(1, raw.strip(), f"unknown column{hint}"))
    problems += [Problem(1, c, "required column is missing") for c in required if c not in found]
    if problems:
        raise InvalidFile(name, problems)
    return found


def values_of(columns: dict[str, int], cells: list[str | None]) -> dict[str, str | None]:
    out = {}
    for column, index in columns.items():
        raw = cells[index] if index < len(cells) else None
        text = raw.strip() if raw is not None else None
        out[column] = text or None
    return out


# -- import ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RegisterRow:
    row: int
    trust: str
    kind: str
    title: str
    description: str | None
    directorates: list[str]
    owner: str | None
    planned_start: dt.date | None
    actual_start: dt.date | None
    ended_on: dt.date | None
    stage: str
    stage_reason: str | None
    progress: float | None


def _date(
    values: dict[str, str | None], column: str, number: int, out: list[Problem]
) -> dt.date | None:
    text = values.get(column)
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        out.append(Problem(number, column, f"{text!r} is not a date like 2027-01-31"))
        return None


def _check_row(
    number: int, values: dict[str, str | None], known_kinds: set[str], problems: list[Problem]
) -> RegisterRow | None:
    found: list[Problem] = []
    trust = values.get("trust") or ""
    if not trust:
        found.append(Problem(number, "trust", "missing; give the organisation's code"))
    elif not TRUST_CODE.match(trust):
        found.append(Problem(number, "trust", f"{trust!r} is not an organisation code"))
    kind = values.get("kind") or ""
    if not kind:
        found.append(Problem(number, "kind", "missing"))
    elif kind not in known_kinds:
        close = difflib.get_close_matches(kind, sorted(known_kinds), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        found.append(Problem(number, "kind", f"unknown kind {kind!r}{hint}"))
    title = values.get("title") or ""
    if not title:
        found.append(Problem(number, "title", "missing"))
    elif len(title) > register.MAX_TITLE:
        found.append(Problem(number, "title", f"{len(title)} characters, at most 300"))
    owner = values.get("owner")
    if owner and len(owner) > register.MAX_OWNER:
        found.append(Problem(number, "owner", f"{len(owner)} characters, at most 200"))
    planned = _date(values, "planned_start", number, found)
    actual = _date(values, "actual_start", number, found)
    ended = _date(values, "ended_on", number, found)
    stage = (values.get("stage") or ("ended" if ended else "planned")).lower()
    reason = values.get("stage_reason")
    if stage not in register.STAGES:
        found.append(
            Problem(number, "stage", f"{stage!r} is not a stage; use {', '.join(register.STAGES)}")
        )
    elif stage == "ended" and ended is None:
        found.append(Problem(number, "ended_on", "an ended initiative needs its end date"))
    elif stage != "ended" and ended is not None:
        found.append(Problem(number, "stage", f"{stage!r} but ended_on is given; use ended"))
    if stage in ("ended", "paused") and not reason:
        found.append(Problem(number, "stage_reason", f"give the reason it is {stage}"))
    start, start_name = (actual, "actual_start") if actual else (planned, "planned_start")
    if ended is not None and start is not None and ended < start:
        found.append(Problem(number, "ended_on", f"{ended} is before {start_name} {start}"))
    progress = None
    if values.get("progress") is not None:
        try:
            progress = register.progress_score(values["progress"], "progress")
        except InitiativeError as exc:
            found.append(Problem(number, "progress", str(exc).removeprefix("progress: ")))
    problems += found
    if found:
        return None
    directorates = [d.strip() for d in (values.get("directorates") or "").split(";") if d.strip()]
    return RegisterRow(
        number,
        trust,
        kind,
        title,
        values.get("description"),
        directorates,
        owner,
        planned,
        actual,
        ended,
        stage,
        reason,
        progress,
    )


def import_register(store: Store, path: str | Path, *, actor: str, trust: str | None = None) -> int:
    """Add every initiative in the file, or none; returns how many were added.

    With `trust` (an organisation lead's import) every row must belong to that trust.
    """
    name = str(path)
    header, rows = read_table(path, COLUMNS)
    columns = map_header(name, header, COLUMNS, REQUIRED)
    with store.session() as session:
        problems: list[Problem] = []
        parsed: list[RegisterRow] = []
        kinds_by_trust: dict[str, set[str]] = {}
        seen: dict[tuple[object, ...], int] = {}
        for number, cells in rows:
            values = values_of(columns, cells)
            if not any(values.values()):
                continue
            code = values.get("trust") or ""
            if code not in kinds_by_trust:
                org = register.organisation_id(session, code) if code else None
                kinds_by_trust[code] = set(register.kinds_for(session, org))
            if trust is not None and code and code != trust:
                problems.append(
                    Problem(number, "trust", f"{code!r}: you may add initiatives of {trust} only")
                )
                continue
            row = _check_row(number, values, kinds_by_trust[code], problems)
            if row is not None:
                key = (row.trust, row.kind, row.title, row.planned_start)
                if key in seen:
                    problems.append(
                        Problem(number, "title", f"the same initiative is on row {seen[key]}")
                    )
                else:
                    seen[key] = number
                    parsed.append(row)
            if len(problems) >= MAX_PROBLEMS:
                break
        if not problems:
            problems += _already_registered(session, parsed)
        if problems:
            raise InvalidFile(name, problems)
        if not parsed:
            raise InvalidFile(name, [Problem(None, None, "the file has a header but no rows")])
        for row in parsed:
            try:
                _write(store, session, row, actor)
            except InitiativeError as exc:  # a check above should have caught it
                raise InvalidFile(name, [Problem(row.row, None, str(exc))]) from None
    return len(parsed)


def _already_registered(session: Session, rows: list[RegisterRow]) -> list[Problem]:
    codes = sorted({r.trust for r in rows})
    existing: dict[tuple[object, ...], int] = {}
    for start in range(0, len(codes), 500):
        found = session.execute(
            select(
                Organisation.code,
                Initiative.kind,
                Initiative.title,
                Initiative.planned_start,
                Initiative.id,
            )
            .join(Organisation, Organisation.id == Initiative.organisation_id)
            .where(Organisation.code.in_(codes[start : start + 500]))
        )
        existing.update(((c, k, t, p), i) for c, k, t, p, i in found)
    return [
        Problem(r.row, "title", f"already in the register as initiative {existing[key]}")
        for r in rows
        if (key := (r.trust, r.kind, r.title, r.planned_start)) in existing
    ]


def _write(store: Store, session: Session, row: RegisterRow, actor: str) -> None:
    start_stage = "planned" if row.stage == "ended" else row.stage
    today = row.actual_start or row.planned_start or dt.date.today()
    if start_stage == "running" and row.actual_start is None:
        today = dt.date.today()
    added = register.add(
        store,
        session,
        trust=row.trust,
        kind=row.kind,
        title=row.title,
        actor=actor,
        description=row.description,
        directorates=row.directorates,
        owner=row.owner,
        planned_start=row.planned_start,
        actual_start=row.actual_start,
        stage=start_stage,
        reason=row.stage_reason if start_stage == "paused" else None,
        progress=row.progress,
        today=today,
        where=f"row {row.row}",
    )
    if row.stage == "ended" and row.ended_on is not None:
        register.end(session, added.id, actor=actor, on=row.ended_on, reason=row.stage_reason or "")


# -- export ------------------------------------------------------------------------------------


def export_register(
    store: Store, path: str | Path, *, trust: str | None = None, fmt: str | None = None
) -> int:
    """Write the register (or one trust's part) as CSV or XLSX; returns the rows written."""
    path = Path(path)
    fmt = fmt or ("xlsx" if path.suffix.lower() == ".xlsx" else "csv")
    with store.session() as session:
        entries = register.list_entries(session, trust=trust)
    header = ["id", *COLUMNS]
    rows = [
        [
            str(e.id),
            e.trust,
            e.kind,
            e.title,
            e.description or "",
            ";".join(e.directorates),
            e.owner or "",
            _iso(e.planned_start),
            _iso(e.actual_start),
            _iso(e.ended_on),
            e.stage,
            e.stage_reason or "",
            "" if e.progress is None else f"{e.progress:.1f}",
        ]
        for e in entries
    ]
    if fmt == "xlsx":
        import xlsxwriter

        with xlsxwriter.Workbook(str(path), {"strings_to_formulas": False}) as book:
            sheet = book.add_worksheet("register")
            sheet.write_row(0, 0, header)
            for r, cells in enumerate(rows, start=1):
                # Written as text: a title starting with = stays a title.
                for c, value in enumerate(cells):
                    if value:  # an empty cell stays blank, as a person would leave it
                        sheet.write_string(r, c, value)
    elif fmt == "csv":
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows([neutralise(c) for c in cells] for cells in rows)
    else:
        raise InitiativeError(f"unknown format {fmt!r}; use csv or xlsx")
    return len(rows)


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""
