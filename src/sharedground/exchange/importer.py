"""Importing an exchange file into a wave: validate everything, then write in one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from sharedground.exchange import answers
from sharedground.exchange.columns import item_columns
from sharedground.exchange.problems import InvalidFile, Problem
from sharedground.exchange.reader import read_exchange_csv
from sharedground.instrument import Instrument, builtin
from sharedground.store import Response, Store

Progress = Callable[[int, int], None]
BATCH = 20_000
FIXED = ("respondent_id", "role", "trust", "mode", "submitted")


@dataclass
class ImportResult:
    """What an import did."""

    wave: str
    instrument: str
    rows: int
    added: int
    unchanged: int
    created_wave: bool
    notes: list[str] = field(default_factory=list)


def import_file(
    store: Store,
    path: str | Path,
    wave_name: str,
    instrument: Instrument | None = None,
    default_mode: str = "online",
    progress: Progress | None = None,
    allow_missing_items: bool = False,
) -> ImportResult:
    """Import a whole exchange file into a wave, or nothing at all.

    The wave is created with `instrument` (default dmr-2015) when it does not exist. A
    respondent already in the wave with identical answers is skipped, so importing the same
    file twice adds nothing; one with different answers is an error. A file lacking an
    item's column is refused unless `allow_missing_items` (the notes then name them).
    """
    with store.session() as session:
        wave = store.find_wave(session, wave_name)
        if wave is not None:
            stored = store.instrument_of(wave)
            if instrument is not None and instrument.key != stored.key:
                raise InvalidFile(
                    str(path),
                    [
                        Problem(
                            None,
                            None,
                            f"wave {wave_name!r} uses instrument {stored.key}, "
                            f"not {instrument.key}",
                        )
                    ],
                )
            instrument = stored
    instrument = instrument or builtin("dmr-2015")
    parsed = read_exchange_csv(
        path, instrument, default_mode=default_mode, allow_missing_items=allow_missing_items
    )
    columns = item_columns(instrument)
    names = [c.name for c in columns]
    verbatim = {c.name for c in columns if c.kind != "text"}  # validated ids and numbers
    # Every column, blank where the file left it out, so stored rows compare cell by cell.
    frame = parsed.frame
    frame = frame.with_columns(
        pl.lit(None, dtype=pl.String).alias(c) for c in (*FIXED, *names) if c not in frame.columns
    ).select(*FIXED, *names)

    with store.session() as session:
        wave = store.find_wave(session, wave_name)
        created = wave is None
        if wave is None:
            wave = store.create_wave(session, wave_name, instrument)
        wave_id = wave.id
        existing = _existing(session, store, wave_id, names)
        frame, unchanged, problems = _compare(frame, existing)
        del existing
        if problems:
            raise InvalidFile(str(path), problems)
        codes = [c for c in frame["trust"].unique().to_list() if c is not None]
        org_ids = store.organisation_ids(session, codes)
        _insert(session, store, wave_id, frame, org_ids, names, verbatim, progress)
    return ImportResult(
        wave=wave_name,
        instrument=instrument.key,
        rows=frame.height + unchanged,
        added=frame.height,
        unchanged=unchanged,
        created_wave=created,
        notes=parsed.notes,
    )


def _digest(frame: pl.DataFrame) -> pl.Series:
    """A 64-bit digest of each row's cells (same cells, same digest, within one process)."""
    return frame.hash_rows(seed=2015).alias("digest")


def _existing(session: Session, store: Store, wave_id: int, names: list[str]) -> pl.DataFrame:
    """The respondent ids already in the wave, with a digest of each stored row.

    Stored documents are decoded a batch at a time into the import frame's layout and kept
    only as digests, so a re-import of a national file holds ids and numbers, not a second
    copy of every answer.
    """
    schema = {c: pl.String for c in (*FIXED, "answers")}
    result_schema = {"respondent_id": pl.String, "digest": pl.UInt64}
    if session.scalar(select(Response.id).where(Response.wave_id == wave_id).limit(1)) is None:
        return pl.DataFrame(schema=result_schema)
    postgres = store.backend == "postgresql"
    answers_sql = "r.answers::text" if postgres else "r.answers"
    submitted_sql = "to_char(r.submitted_on, 'YYYY-MM-DD')" if postgres else "r.submitted_on"
    result = session.execute(
        text(
            f"SELECT r.respondent_key, r.role, o.code, r.mode, {submitted_sql}, {answers_sql} "
            "FROM response r LEFT JOIN organisation o ON o.id = r.organisation_id "
            "WHERE r.wave_id = :wave"
        ),
        {"wave": wave_id},
    )
    chunks = []
    while rows := result.fetchmany(BATCH * 5):
        chunk = pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")
        decoded = answers.decode(chunk["answers"], names)
        stored = pl.concat([chunk.drop("answers"), decoded], how="horizontal")
        chunks.append(stored.select("respondent_id", _digest(stored)))
    return pl.concat(chunks)


def _compare(
    frame: pl.DataFrame, existing: pl.DataFrame
) -> tuple[pl.DataFrame, int, list[Problem]]:
    """The rows not yet stored, how many were stored already, and the ones that changed.

    A stored respondent counts as the same when every cell is the same, blanks included
    (compared by digest: `frame` has the stored rows' layout, fixed columns then items).
    """
    if existing.height == 0:
        return frame, 0, []
    joined = (
        frame.select("respondent_id", _digest(frame))
        .with_row_index("row", offset=2)
        .join(existing, on="respondent_id", how="inner", suffix="_stored")
    )
    differing = joined.filter(pl.col("digest") != pl.col("digest_stored")).sort("row")
    problems = [
        Problem(
            row,
            "respondent_id",
            f"{rid!r} is already in this wave with different answers; "
            "give it a new id or remove the row",
        )
        for row, rid in differing.select("row", "respondent_id").head(50).iter_rows()
    ]
    new = frame.join(existing.select("respondent_id"), on="respondent_id", how="anti")
    return new, joined.height, problems


def _insert(
    session: Session,
    store: Store,
    wave_id: int,
    frame: pl.DataFrame,
    org_ids: dict[str, int],
    names: list[str],
    verbatim: set[str],
    progress: Progress | None,
) -> None:
    """Write the rows a batch at a time, encoding each batch's answers just before.

    Encoding batch by batch keeps the JSON documents of only one batch in memory.
    """
    fixed = [
        pl.lit(wave_id, dtype=pl.Int64).alias("wave_id"),
        pl.col("respondent_id"),
        pl.col("role"),
        pl.col("trust").replace_strict(org_ids, default=None, return_dtype=pl.Int64),
        pl.col("mode"),
        pl.col("submitted"),  # already YYYY-MM-DD, the text both databases read as a date
    ]

    def batches() -> Iterator[pl.DataFrame]:
        for start in range(0, frame.height, BATCH):
            chunk = frame.slice(start, BATCH)
            yield chunk.select(*fixed, answers.encode(chunk, names, verbatim))

    total = frame.height
    raw = session.connection().connection.driver_connection
    assert raw is not None
    columns = "wave_id, respondent_key, role, organisation_id, mode, submitted_on, answers"
    if store.backend == "postgresql":
        # COPY in CSV, written by Polars a batch at a time: far faster than a row at a time.
        # An unquoted empty field is NULL; no cell is an empty string (blanks are null).
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY response ({columns}) FROM STDIN (FORMAT csv)") as copy,
        ):
            for start, chunk in zip(range(0, total, BATCH), batches(), strict=True):
                copy.write(chunk.write_csv(include_header=False, null_value=""))
                if progress:
                    progress(min(start + BATCH, total), total)
    else:
        sql = f"INSERT INTO response ({columns}) VALUES (?, ?, ?, ?, ?, ?, ?)"
        cursor = raw.cursor()
        try:
            for start, chunk in zip(range(0, total, BATCH), batches(), strict=True):
                cursor.executemany(sql, chunk.iter_rows())
                if progress:
                    progress(min(start + BATCH, total), total)
        finally:
            cursor.close()
    if progress:
        progress(total, total)
