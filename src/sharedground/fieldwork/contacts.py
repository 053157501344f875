"""The sample frame: reading a contacts file (CSV or XLSX) and adding it to a wave.

A contacts file has one row per person: `name, email, postal_address, role, trust,
directorate`. It is checked whole before anything is written, like a response import:
every problem is listed with its row and column, and a file with any problem adds nobody.
The same person (the same e-mail address, compared without regard to case) may be in a
wave once. A postal address, with the name above it, must show whole through the window of
the envelope the printed pack goes in (`envelope`); one that does not end in a postcode
is imported with a warning.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from sharedground.exchange import csvparse
from sharedground.exchange.formulas import restore
from sharedground.exchange.problems import InvalidFile, Problem
from sharedground.exchange.reader import TRUST_CODE
from sharedground.fieldwork import envelope
from sharedground.fieldwork.clock import stored_now
from sharedground.instrument import Instrument, loads
from sharedground.store import Contact, Organisation, Store, Wave

COLUMNS = ("name", "email", "postal_address", "role", "trust", "directorate")
REQUIRED = ("role", "trust")
#: Other spellings spreadsheets use for a column, mapped to its name.
ALIASES = {
    "address": "postal_address",
    "postal address": "postal_address",
    "e-mail": "email",
    "email address": "email",
    "organisation": "trust",
}
MAX_LENGTHS = {"name": 200, "email": 320, "postal_address": 2000, "directorate": 200}
# Deliberately loose: one @, a dot in the domain, no spaces. The SMTP server is the judge.
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MAX_PROBLEMS = 200


@dataclass(frozen=True)
class ContactRow:
    """One validated row of a contacts file."""

    row: int
    name: str | None
    email: str | None
    postal_address: str | None
    role: str
    trust: str
    directorate: str | None


def read_contacts(
    path: str | Path, instrument: Instrument, warnings: list[Problem] | None = None
) -> list[ContactRow]:
    """Read and check a whole contacts file; InvalidFile lists every problem found.

    What is read all the same but may be wrong (an XLSX formula without a saved value,
    read as blank) is added to `warnings`; when the file is refused it is listed among
    the problems, since it may be their cause.
    """
    name = str(path)
    path = Path(path)
    if not path.exists():
        raise InvalidFile(name, [Problem(None, None, "no such file")])
    if path.is_dir():
        raise InvalidFile(name, [Problem(None, None, "is a folder, not a file")])
    found: list[Problem] = []
    if path.suffix.lower() == ".xlsx":
        header, rows, found = _read_xlsx(path)
    else:
        header, rows = _read_csv(name, path)
    if warnings is not None:
        warnings += found
    try:
        return _check_rows(name, header, rows, instrument)
    except InvalidFile as refused:
        if not found:
            raise
        raise InvalidFile(name, refused.problems + found) from None


def _check_rows(
    name: str,
    header: list[str],
    rows: list[tuple[int, list[str | None]]],
    instrument: Instrument,
) -> list[ContactRow]:
    columns = _map_header(name, header)
    problems: list[Problem] = []
    parsed: list[ContactRow] = []
    roles = instrument.role_ids()
    seen: dict[str, int] = {}
    for number, cells in rows:
        values = {col: _clean(cells[i] if i < len(cells) else None) for col, i in columns.items()}
        if not any(values.values()):
            continue
        row_problems = _check_row(number, values, roles)
        email = values.get("email")
        if email and not row_problems:
            key = email.lower()
            if key in seen:
                row_problems.append(
                    Problem(number, "email", f"{email} is already on row {seen[key]}")
                )
            else:
                seen[key] = number
        problems += row_problems
        if not row_problems:
            parsed.append(
                ContactRow(
                    row=number,
                    name=values.get("name"),
                    email=email.lower() if email else None,
                    postal_address=values.get("postal_address"),
                    role=(values["role"] or "").lower(),
                    trust=values["trust"] or "",
                    directorate=values.get("directorate"),
                )
            )
        if len(problems) >= MAX_PROBLEMS:
            break
    if problems:
        raise InvalidFile(name, problems)
    if not parsed:
        raise InvalidFile(name, [Problem(None, None, "the file has a header but no contacts")])
    return parsed


def _clean(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _read_csv(name: str, path: Path) -> tuple[list[str], list[tuple[int, list[str | None]]]]:
    text = csvparse.decode(name, path.read_bytes(), [])
    frame = csvparse.parse(name, text, known=[*COLUMNS, *ALIASES])
    # A contacts CSV the system wrote has a quote before cells a spreadsheet would run.
    rows = [
        (i + 2, [None if c is None else restore(c) for c in row])
        for i, row in enumerate(frame.iter_rows())
    ]
    return list(frame.columns), rows


def _read_xlsx(
    path: Path,
) -> tuple[list[str], list[tuple[int, list[str | None]]], list[Problem]]:
    """The first sheet's header and rows, and a warning for each formula without a value.

    A workbook keeps each formula's last calculated value beside it; files written by a
    program that does not calculate (a script, some exports) have none, and the cell would
    read as blank. Such cells are found by reading the workbook a second time for formulas.
    """
    import openpyxl

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
        formulas = openpyxl.load_workbook(path, read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for a bad file
        raise InvalidFile(
            str(path), [Problem(None, None, f"cannot be read as an Excel workbook ({exc})")]
        ) from None
    try:
        sheet = book.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        written = [list(r) for r in formulas.worksheets[0].iter_rows(values_only=True)]
        title = sheet.title
    finally:
        book.close()
        formulas.close()
    if not rows:
        raise InvalidFile(str(path), [Problem(None, None, "the first sheet is empty")])
    header = [str(c) if c is not None else "" for c in rows[0]]
    body = [
        (i + 2, [None if c is None else _cell_text(c) for c in r]) for i, r in enumerate(rows[1:])
    ]
    return header, body, _formulas_without_values(title, header, rows, written)


def _formulas_without_values(
    title: str, header: list[str], values: list[list[object]], written: list[list[object]]
) -> list[Problem]:
    from openpyxl.utils import get_column_letter

    warnings = []
    for r, (row, cells) in enumerate(zip(values, written, strict=False), start=1):
        for c, formula in enumerate(cells):
            value = row[c] if c < len(row) else None
            if value is None and isinstance(formula, str) and formula.startswith("="):
                cell = f"{get_column_letter(c + 1)}{r}"
                column = header[c] if c < len(header) and header[c] else get_column_letter(c + 1)
                warnings.append(
                    Problem(
                        r,
                        column,
                        f"sheet {title!r}, cell {cell}: the formula {formula} has no saved "
                        "value and was read as blank; open the file in Excel or LibreOffice, "
                        "save it (which calculates it) and import again",
                    )
                )
    return warnings


def _cell_text(value: object) -> str:
    # A trust code like 123 is read by Excel as a number; 123.0 would not match "123".
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _map_header(name: str, header: list[str]) -> dict[str, int]:
    columns: dict[str, int] = {}
    problems = []
    for index, raw in enumerate(header):
        label = raw.strip().lower()
        column = ALIASES.get(label, label.replace(" ", "_"))
        if column in COLUMNS:
            if column in columns:
                problems.append(Problem(1, raw, "this column is given twice"))
            columns[column] = index
        elif label:
            close = difflib.get_close_matches(column, COLUMNS, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; use {', '.join(COLUMNS)}"
            problems.append(Problem(1, raw, f"unknown column{hint}"))
    for required in REQUIRED:
        if required not in columns:
            problems.append(Problem(1, required, "required column is missing"))
    if "email" not in columns and "postal_address" not in columns:
        problems.append(
            Problem(1, "email", "the file needs an email or a postal_address column (or both)")
        )
    if problems:
        raise InvalidFile(name, problems)
    return columns


def _check_row(number: int, values: dict[str, str | None], roles: list[str]) -> list[Problem]:
    problems = []
    role = values.get("role")
    if not role:
        problems.append(Problem(number, "role", f"missing; use one of {', '.join(roles)}"))
    elif role.lower() not in roles:
        problems.append(Problem(number, "role", f"{role!r} is not a role; use {' | '.join(roles)}"))
    trust = values.get("trust")
    if not trust:
        problems.append(Problem(number, "trust", "missing; give the organisation's code"))
    elif not TRUST_CODE.match(trust):
        problems.append(
            Problem(number, "trust", f"{trust!r} is not a code (letters, digits, - _ . ; up to 32)")
        )
    email = values.get("email")
    if email is not None and not _EMAIL.match(email):
        problems.append(Problem(number, "email", f"{email!r} is not an e-mail address"))
    if not email and not values.get("postal_address"):
        problems.append(
            Problem(number, "email", "neither an e-mail nor a postal address: cannot be reached")
        )
    for column, limit in MAX_LENGTHS.items():
        value = values.get(column)
        if value is not None and len(value) > limit:
            problems.append(Problem(number, column, f"{len(value)} characters, at most {limit}"))
    address = values.get("postal_address")
    if address:
        problems += [
            Problem(number, misfit.field, misfit.message)
            for misfit in envelope.misfits(values.get("name"), address)
        ]
    return problems


@dataclass(frozen=True)
class ImportSummary:
    """What an import added."""

    added: int
    by_role: dict[str, int]
    trusts: int
    warnings: tuple[Problem, ...] = ()  # imported all the same


def import_contacts(
    store: Store, path: str | Path, wave_name: str, *, dry_run: bool = False
) -> ImportSummary:
    """Add a contacts file to a wave: every row, or none when any row has a problem.

    With `dry_run` the file is checked in full the same way and nothing is written: the
    summary says what would be added (the admin pages show it before the user confirms).

    Raises:
        InvalidFile: the file has problems (listed), or someone in it is already in the wave.
        StoreError: there is no such wave.
    """
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        instrument = loads(wave.instrument.definition)
        read_warnings: list[Problem] = []
        rows = read_contacts(path, instrument, read_warnings)
        existing = _existing_emails(session, wave, [r.email for r in rows if r.email])
        clashes = [
            Problem(r.row, "email", f"{r.email} is already a contact in wave {wave.name!r}")
            for r in rows
            if r.email and r.email in existing
        ]
        if clashes:
            raise InvalidFile(str(path), clashes)
        if dry_run:
            return _summary(rows, len({r.trust for r in rows}), read_warnings)
        organisations = store.organisation_ids(session, {r.trust for r in rows})
        session.add_all(
            Contact(
                wave_id=wave.id,
                name=r.name,
                email=r.email,
                postal_address=r.postal_address,
                role=r.role,
                organisation_id=organisations[r.trust],
                directorate=r.directorate,
            )
            for r in rows
        )
        session.flush()
    return _summary(rows, len(organisations), read_warnings)


def _summary(rows: list[ContactRow], trusts: int, read_warnings: list[Problem]) -> ImportSummary:
    by_role: dict[str, int] = {}
    for r in rows:
        by_role[r.role] = by_role.get(r.role, 0) + 1
    warnings = tuple(read_warnings) + tuple(
        Problem(r.row, "postal_address", warning)
        for r in rows
        if (warning := envelope.postcode_warning(r.postal_address)) is not None
    )
    return ImportSummary(len(rows), by_role, trusts, warnings)


def _existing_emails(session: Session, wave: Wave, emails: Iterable[str]) -> set[str]:
    wanted = sorted(set(emails))
    found: set[str] = set()
    for start in range(0, len(wanted), 500):
        chunk = wanted[start : start + 500]
        found.update(
            session.scalars(
                select(func.lower(Contact.email)).where(
                    Contact.wave_id == wave.id, func.lower(Contact.email).in_(chunk)
                )
            )
        )
    return found


def opt_out(session: Session, contact_id: int, when: dt.datetime | None = None) -> bool:
    """Record that a contact wants no more messages; False if they had opted out already."""
    result = session.execute(
        update(Contact)
        .where(Contact.id == contact_id, Contact.opted_out_at.is_(None))
        .values(opted_out_at=when or stored_now())
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def find_contact(session: Session, wave: Wave, email: str) -> Contact | None:
    """The wave's contact with this e-mail address (any case), or None."""
    return session.scalar(
        select(Contact).where(
            Contact.wave_id == wave.id, func.lower(Contact.email) == email.strip().lower()
        )
    )


def trust_codes(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    """Organisation codes by id."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict(
        session.execute(
            select(Organisation.id, Organisation.code).where(Organisation.id.in_(wanted))
        ).all()
    )
