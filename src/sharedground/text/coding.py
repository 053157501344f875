"""Codings: a coder applies a code of a frame to a whole source or to a span of its text.

Each coder's codings are kept apart, so two people can code the same sample blind and be
compared (`agreement`). The team's resolved coding is kept as the codings of the reserved
coder `team` (`TEAM_CODER`): resolving a disagreement adds or removes a team coding.

Codings come from the admin page, from a CSV file (`import_csv`: columns `source`, `code`,
and optionally `start`, `end`, `memo`; all rows checked before any is written, errors naming
the file, row and column), and from another tool's REFI-QDA project (`refi`).
"""

from __future__ import annotations

import csv
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from sharedground.exchange.formulas import neutralise_cells, restore
from sharedground.text.errors import TextError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from sharedground.store.textschema import CodeFrame, Coder, Coding, TextCode, TextSource

CSV_COLUMNS = ("source", "code", "start", "end", "memo")
#: Columns a coding sheet (`write_sample`) carries for the coder's reading; ignored on import.
READING_COLUMNS = ("text", "role")


@dataclass(frozen=True)
class CodingRow:
    """A coding as listings, agreement and exports read it."""

    source_id: int
    code: str
    coder: str
    start: int | None
    end: int | None
    memo: str | None = None


def get_coder(session: Session, name: str, *, create: bool = True) -> Coder:
    from sqlalchemy import select

    from sharedground.store.textschema import Coder

    name = name.strip()
    if not name or len(name) > 100:
        raise TextError("a coder's name must be 1 to 100 characters")
    found = session.scalar(select(Coder).where(Coder.name == name))
    if found is None:
        if not create:
            raise TextError(f"no coder {name!r} has coded anything yet")
        found = Coder(name=name, guid=str(uuid.uuid4()))
        session.add(found)
        session.flush()
    return found


def codes_of(session: Session, frame: CodeFrame) -> dict[str, TextCode]:
    from sqlalchemy import select

    from sharedground.store.textschema import TextCode

    rows = session.scalars(select(TextCode).where(TextCode.frame_id == frame.id))
    return {row.key: row for row in rows}


def check_span(
    source: TextSource, start: int | None, end: int | None
) -> tuple[int | None, int | None]:
    """The span as stored: None, None for the whole text; a TextError if it is not inside it."""
    if start is None and end is None:
        return None, None
    if start is None or end is None:
        raise TextError("a span needs both start and end (or neither, for the whole text)")
    length = len(source.content)
    if not 0 <= start < end <= length:
        raise TextError(
            f"span {start}-{end} is outside source {source.id}, whose text has {length} "
            f"characters (offsets count from 0; the end is exclusive, at most {length})"
        )
    if start == 0 and end == length:
        return None, None
    return start, end


def add(
    session: Session,
    source: TextSource,
    code: TextCode,
    coder: Coder,
    *,
    start: int | None = None,
    end: int | None = None,
    memo: str | None = None,
) -> Coding:
    """Apply a code; the same coding made twice is kept once (its memo updated)."""
    from sqlalchemy import select

    from sharedground.store.textschema import Coding

    start, end = check_span(source, start, end)
    query = select(Coding).where(
        Coding.source_id == source.id, Coding.code_id == code.id, Coding.coder_id == coder.id
    )
    query = query.where(
        Coding.start.is_(None) if start is None else Coding.start == start,
        Coding.end.is_(None) if end is None else Coding.end == end,
    )
    found = session.scalar(query)
    if found is not None:
        if memo:
            found.memo = memo
        return found
    coding = Coding(
        source_id=source.id, code_id=code.id, coder_id=coder.id, start=start, end=end, memo=memo
    )
    session.add(coding)
    session.flush()
    return coding


def remove(session: Session, coding_id: int, coder: Coder) -> None:
    from sharedground.store.textschema import Coding

    found = session.get(Coding, coding_id)
    if found is None or found.coder_id != coder.id:
        raise TextError(f"no coding {coding_id} of coder {coder.name}")
    session.delete(found)
    session.flush()


def rows(
    session: Session,
    frame: CodeFrame,
    *,
    coders: Sequence[str] | None = None,
    source_ids: Iterable[int] | None = None,
) -> list[CodingRow]:
    """The frame's codings (of the named coders), ordered by source, coder, code, start."""
    from sqlalchemy import select

    from sharedground.store.textschema import Coder, Coding, TextCode

    query = (
        select(Coding.source_id, TextCode.key, Coder.name, Coding.start, Coding.end, Coding.memo)
        .join(TextCode, TextCode.id == Coding.code_id)
        .join(Coder, Coder.id == Coding.coder_id)
        .where(TextCode.frame_id == frame.id)
    )
    if coders is not None:
        query = query.where(Coder.name.in_(list(coders)))
    if source_ids is not None:
        query = query.where(Coding.source_id.in_(list(source_ids)))
    found = [CodingRow(*row) for row in session.execute(query)]
    return sorted(found, key=lambda r: (r.source_id, r.coder, r.code, r.start or 0, r.end or 0))


def _int_cell(value: str, where: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise TextError(f"{where}: {value!r} is not a whole number of characters") from None


def import_csv(session: Session, path: Path, frame: CodeFrame, coder_name: str) -> int:
    """Add one coder's codings from a CSV file, all rows or none; returns how many."""
    from sharedground.store.textschema import TextSource

    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise TextError(f"{path}: no such file") from None
    with handle:
        reader = csv.DictReader(handle)
        header = [name.strip() for name in reader.fieldnames or []]
        missing = [name for name in ("source", "code") if name not in header]
        if missing:
            raise TextError(
                f"{path}: row 1: no column {', '.join(missing)} (columns: {', '.join(CSV_COLUMNS)})"
            )
        unknown = [name for name in header if name not in (*CSV_COLUMNS, *READING_COLUMNS)]
        if unknown:
            raise TextError(
                f"{path}: row 1: unknown column {', '.join(unknown)} "
                f"(columns: {', '.join(CSV_COLUMNS)})"
            )
        # Cells the system neutralised when it wrote the sheet (`exchange.formulas`).
        records = [
            (number, {k: restore(v) if isinstance(v, str) else v for k, v in row.items()})
            for number, row in enumerate(reader, start=2)
        ]
    codes = codes_of(session, frame)
    planned = []
    for number, row in records:
        where = f"{path}: row {number}"
        source_cell = (row.get("source") or "").strip()
        source_id = _int_cell(source_cell, f"{where}, column source")
        source = session.get(TextSource, source_id) if source_id is not None else None
        if source is None:
            raise TextError(f"{where}, column source: no source {source_cell!r}")
        key = (row.get("code") or "").strip()
        if not key and "text" in header:
            continue  # a sheet's row the coder left uncoded
        if key not in codes:
            raise TextError(
                f"{where}, column code: {key!r} is not a code of frame "
                f"{frame.key}@{frame.version} (codes: {', '.join(sorted(codes))})"
            )
        start = _int_cell(row.get("start") or "", f"{where}, column start")
        end = _int_cell(row.get("end") or "", f"{where}, column end")
        try:
            check_span(source, start, end)
        except TextError as exc:
            raise TextError(f"{where}, columns start/end: {exc}") from None
        memo = (row.get("memo") or "").strip() or None
        planned.append((source, codes[key], start, end, memo))
    coder = get_coder(session, coder_name)
    for source, code, start, end, memo in planned:
        add(session, source, code, coder, start=start, end=end, memo=memo)
    return len(planned)


def write_sample(path: Path, chosen: Sequence[TextSource]) -> None:
    """A coding sheet: one row per source with its text; the coder fills `code` (and may
    copy a row to give a source more codes, or fill start/end for a span)."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "role", "text", "code", "start", "end", "memo"])
        for source in chosen:
            # A comment beginning "=" would be a formula in the coder's spreadsheet.
            writer.writerow(
                neutralise_cells([source.id, source.role or "", source.content, "", "", "", ""])
            )


def sheet_sources(path: Path) -> list[int]:
    """The source ids of a coding sheet (or any CSV with a `source` column), in order, once."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise TextError(f"{path}: no such file") from None
    found: list[int] = []
    with handle:
        reader = csv.DictReader(handle)
        if "source" not in (reader.fieldnames or []):
            raise TextError(f"{path}: row 1: no column source")
        for number, row in enumerate(reader, start=2):
            ident = _int_cell(row.get("source") or "", f"{path}: row {number}, column source")
            if ident is not None and ident not in found:
                found.append(ident)
    return found


def export_csv(
    path: Path,
    found: Sequence[CodingRow],
    *,
    anonymised: bool = False,
    source_names: Mapping[int, str] | None = None,
) -> None:
    """The codings as CSV; `anonymised` (a trust's export, what its lead gets): memos go
    through the anonymiser, as the text did when it was stored. With `source_names` (a
    trust's export: `refi.trust_source_names`) the source column holds each source's name as
    the trust's .qdpx gives it, not its number in the store, which follows the order the
    responses were received."""
    if anonymised:
        from sharedground.report.anonymise import anonymise

        found = [replace(row, memo=anonymise(row.memo)) if row.memo else row for row in found]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["source", "coder", "code", "start", "end", "memo"])
        for row in found:
            writer.writerow(
                neutralise_cells(
                    [
                        row.source_id if source_names is None else source_names[row.source_id],
                        row.coder,
                        row.code,
                        "" if row.start is None else row.start,
                        "" if row.end is None else row.end,
                        row.memo or "",
                    ]
                )
            )


@dataclass(frozen=True)
class Resolved:
    """What settling one disagreement changed in the team's coding."""

    added: bool
    #: The team's codings removed or cut back, by code key (a dropped theme takes its sub-codes).
    dropped: dict[str, int]


def _under(frame: CodeFrame, key: str) -> set[str]:
    """The code and every code below it."""
    parent = {code.key: code.parent_id for code in frame.codes}
    key_of = {code.id: code.key for code in frame.codes}
    found = {key}
    grew = True
    while grew:
        more = {k for k, up in parent.items() if up is not None and key_of[up] in found} - found
        found |= more
        grew = bool(more)
    return found


def resolve(
    session: Session,
    frame: CodeFrame,
    source: TextSource,
    code_key: str,
    *,
    keep: bool,
    start: int | None = None,
    end: int | None = None,
) -> Resolved:
    """Settle a disagreement: the code is (keep) or is not (drop) on the source for the team.

    Without `start`/`end` the decision is about the whole source (a comment is one unit of
    agreement); with them, about that span (a transcript's paragraph, as `text agreement`
    lists it). Dropping removes the team's codings of the code and of every code under it
    (a theme counts wherever a sub-code is) within the span, cutting back a coding that
    reaches beyond it instead of removing the rest of it.
    """
    from sqlalchemy import select

    from sharedground.store.textschema import TEAM_CODER, Coding

    codes = codes_of(session, frame)
    if code_key not in codes:
        raise TextError(f"{code_key!r} is not a code of frame {frame.key}@{frame.version}")
    start, end = check_span(source, start, end)
    team = get_coder(session, TEAM_CODER)
    if keep:
        had = session.scalar(
            select(Coding.id).where(
                Coding.source_id == source.id,
                Coding.code_id == codes[code_key].id,
                Coding.coder_id == team.id,
                Coding.start.is_(None) if start is None else Coding.start == start,
                Coding.end.is_(None) if end is None else Coding.end == end,
            )
        )
        add(session, source, codes[code_key], team, start=start, end=end)
        return Resolved(added=had is None, dropped={})
    length = len(source.content)
    low, high = (0, length) if start is None else (start, end or length)
    wanted = {codes[key].id: key for key in _under(frame, code_key)}
    dropped: dict[str, int] = {}
    found = session.scalars(
        select(Coding).where(
            Coding.source_id == source.id,
            Coding.coder_id == team.id,
            Coding.code_id.in_(list(wanted)),
        )
    )
    for row in list(found):
        first = 0 if row.start is None else row.start
        last = length if row.end is None else row.end
        if last <= low or high <= first:
            continue  # outside the span settled
        key = wanted[row.code_id]
        dropped[key] = dropped.get(key, 0) + 1
        code, memo = codes[key], row.memo
        session.delete(row)
        session.flush()
        for piece in ((first, low), (high, last)):
            if piece[0] < piece[1]:
                add(session, source, code, team, start=piece[0], end=piece[1], memo=memo)
    return Resolved(added=False, dropped=dropped)


def adopt(session: Session, frame: CodeFrame, coder_name: str) -> int:
    """Start the team's coding from one coder's (codings the team lacks are copied)."""
    from sharedground.store.textschema import TEAM_CODER, TextSource

    codes = codes_of(session, frame)
    team = get_coder(session, TEAM_CODER)
    count = 0
    for row in rows(session, frame, coders=[coder_name]):
        source = session.get(TextSource, row.source_id)
        assert source is not None
        add(session, source, codes[row.code], team, start=row.start, end=row.end, memo=row.memo)
        count += 1
    return count
