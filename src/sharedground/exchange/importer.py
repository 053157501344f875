"""Importing an exchange file into a wave: validate everything, then write in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import polars as pl
from sqlalchemy import select

from sharedground.exchange import answers
from sharedground.exchange.columns import item_columns
from sharedground.exchange.problems import InvalidFile, Problem
from sharedground.exchange.reader import read_exchange_csv
from sharedground.instrument import Instrument, builtin
from sharedground.store import Response, Store
from sharedground.store.schema import Organisation

Progress = Callable[[int, int], None]
BATCH = 20_000


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
) -> ImportResult:
    """Import a whole exchange file into a wave, or nothing at all.

    The wave is created with `instrument` (default dmr-2015) when it does not exist. A
    respondent already in the wave with identical answers is skipped, so importing the same
    file twice adds nothing; one with different answers is an error.
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
    parsed = read_exchange_csv(path, instrument, default_mode=default_mode)
    frame = parsed.frame
    names = [c.name for c in item_columns(instrument)]
    frame = frame.with_columns(answers.encode(frame, names))
    if "trust" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("trust"))
    if "submitted" not in frame.columns:
        frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias("submitted"))
    frame = frame.select("respondent_id", "role", "trust", "mode", "submitted", "answers")

    with store.session() as session:
        wave = store.find_wave(session, wave_name)
        created = wave is None
        if wave is None:
            wave = store.create_wave(session, wave_name, instrument)
        wave_id = wave.id
        existing = _existing(session, store, wave_id, frame["respondent_id"].to_list())
        frame, unchanged, problems = _compare(frame, existing)
        if problems:
            raise InvalidFile(str(path), problems)
        codes = [c for c in frame["trust"].unique().to_list() if c is not None]
        org_ids = store.organisation_ids(session, codes)
        _insert(session, store, wave_id, frame, org_ids, progress)
    return ImportResult(
        wave=wave_name,
        instrument=instrument.key,
        rows=frame.height + unchanged,
        added=frame.height,
        unchanged=unchanged,
        created_wave=created,
        notes=parsed.notes,
    )


def _existing(session: object, store: Store, wave_id: int, keys: list[str]) -> pl.DataFrame:
    """Rows already stored for these respondent ids, in the import frame's layout."""
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    schema = {
        "respondent_id": pl.String,
        "role": pl.String,
        "trust": pl.String,
        "mode": pl.String,
        "submitted": pl.String,
        "answers": pl.String,
    }
    count = session.scalar(
        select(Response.id).where(Response.wave_id == wave_id).limit(1)
    )
    if count is None:
        return pl.DataFrame(schema=schema)
    rows = []
    wanted = set(keys)
    query = (
        select(
            Response.respondent_key,
            Response.role,
            Organisation.code,
            Response.mode,
            Response.submitted_on,
            Response.answers,
        )
        .outerjoin(Organisation, Organisation.id == Response.organisation_id)
        .where(Response.wave_id == wave_id)
    )
    for key, role, code, mode, submitted, doc in session.execute(query):
        if key in wanted:
            rows.append(
                (
                    key,
                    role,
                    code,
                    mode,
                    submitted.isoformat() if submitted else None,
                    orjson.dumps(doc, option=orjson.OPT_SORT_KEYS).decode(),
                )
            )
    return pl.DataFrame(rows, schema=schema, orient="row")


def _compare(
    frame: pl.DataFrame, existing: pl.DataFrame
) -> tuple[pl.DataFrame, int, list[Problem]]:
    if existing.height == 0:
        return frame, 0, []
    numbered = frame.with_row_index("row", offset=2)
    normalised = numbered.with_columns(
        pl.col("answers")
        .map_elements(
            lambda s: orjson.dumps(orjson.loads(s), option=orjson.OPT_SORT_KEYS).decode(),
            return_dtype=pl.String,
        )
        .alias("answers_sorted")
    )
    joined = normalised.join(existing, on="respondent_id", how="inner", suffix="_stored")
    same = (
        (pl.col("role") == pl.col("role_stored"))
        & pl.col("trust").eq_missing(pl.col("trust_stored"))
        & (pl.col("mode") == pl.col("mode_stored"))
        & pl.col("submitted").eq_missing(pl.col("submitted_stored"))
        & (pl.col("answers_sorted") == pl.col("answers_stored"))
    )
    differing = joined.filter(~same)
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
    session: object,
    store: Store,
    wave_id: int,
    frame: pl.DataFrame,
    org_ids: dict[str, int],
    progress: Progress | None,
) -> None:
    from sqlalchemy.orm import Session

    assert isinstance(session, Session)
    rows = frame.with_columns(
        pl.col("trust").replace_strict(org_ids, default=None, return_dtype=pl.Int64).alias("org"),
        pl.col("submitted").str.to_date("%Y-%m-%d").alias("submitted"),
    ).select("respondent_id", "role", "org", "mode", "submitted", "answers")
    total = rows.height
    connection = session.connection()
    raw = connection.connection.driver_connection
    if store.backend == "postgresql":
        # COPY is the fast path on PostgreSQL; the JSON text goes straight into jsonb.
        assert raw is not None
        with raw.cursor() as cursor:  # type: ignore[attr-defined]
            with cursor.copy(
                "COPY response (wave_id, respondent_key, role, organisation_id, mode, "
                "submitted_on, answers) FROM STDIN"
            ) as copy:
                for done, record in enumerate(rows.iter_rows(), start=1):
                    copy.write_row((wave_id, *record))
                    if progress and done % BATCH == 0:
                        progress(done, total)
    else:
        sql = (
            "INSERT INTO response (wave_id, respondent_key, role, organisation_id, mode, "
            "submitted_on, answers) VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        cursor = raw.cursor()  # type: ignore[union-attr]
        for start in range(0, total, BATCH):
            chunk = rows.slice(start, BATCH)
            cursor.executemany(
                sql,
                [
                    (wave_id, k, r, o, m, d.isoformat() if d else None, a)
                    for k, r, o, m, d, a in chunk.iter_rows()
                ],
            )
            if progress:
                progress(min(start + BATCH, total), total)
        cursor.close()
    if progress:
        progress(total, total)
