"""Reading a wave out of the store as a coded frame, through a columnar cache.

The store (SQLite or PostgreSQL) stays the system of record: one JSON document per
response. Decoding a million of those takes tens of seconds, far too slow to repeat for
every table, so the coded frame (`sharedground.analysis.encoding`) is kept as an Arrow IPC
snapshot in a cache folder and reused while the wave's responses are unchanged.

How the cache knows it is stale. A snapshot records the wave's responses as (count, highest
id, sum of ids, respondent key of the highest id). Responses are only ever added or deleted
(imports, web submissions, reconciled paper returns and released anonymous questionnaires
insert; nothing in sharedground edits a stored answer), and a new response gets a higher id
than any stored one (SQLite may reuse the id of a deleted last row: the respondent key tells
them apart), so:

* the same record now means the same rows: the snapshot is used as it is;
* when the rows up to the snapshot's highest id still have the snapshot's count and sum,
  only newer responses were added: those are decoded and appended;
* anything else (a deletion, a wave re-imported, a PostgreSQL transaction that took a lower
  id but committed after the snapshot was written) rebuilds the snapshot from scratch.

The record is taken before the rows are read, and only rows up to its highest id are read;
a snapshot is written only when the rows read are as many as the record says, so a response
committed or deleted in between is never counted in a snapshot that does not record it.
The snapshot also names its database and the wave's creation time: a database file deleted
and made again at the same path, with a new wave of the same size, is not mistaken for the
old one.

`refresh_cache` brings a snapshot up to date ahead of the first analysis (`sharedground
import` calls it). A feature that edits answers in place must call `invalidate` (or the
store should grow a change counter that becomes part of the record). `sharedground analyse
--refresh` rebuilds by hand. Snapshots hold coded answers but never free text; they are
written with owner-only permissions, like the database they come from.

The command line first tries `load_current`: for an SQLite file whose snapshot is current,
it makes the same checks with the standard library's sqlite3 instead of SQLAlchemy (whose
import takes longer than the rest of a warm `analyse`), and defers to `load_wave` for
anything else. This module therefore imports SQLAlchemy only inside the functions that
use it.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from sharedground.analysis.encoding import coded_columns, encode, schema
from sharedground.instrument import Instrument, loads
from sharedground.store.quick import database_key

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from sharedground.store import Store

CACHE_ENV = "SHAREDGROUND_CACHE_DIR"
Progress = Callable[[int, int], None]
#: Runs one SQL query with :named parameters and returns its rows (SQLAlchemy or sqlite3).
Query = Callable[[str, dict[str, Any]], Sequence[Sequence[Any]]]
CHUNK = 50_000
_FORMAT = 3  # bump when the coded layout changes, so old snapshots are ignored


@dataclass(frozen=True)
class WaveData:
    """A wave's responses as codes, with what the analysis needs to know about the wave."""

    name: str
    instrument: Instrument
    suppression_threshold: int
    frame: pl.DataFrame
    #: "hit", "appended", "built" or "uncached": how the frame was obtained.
    cache: str


@dataclass(frozen=True)
class CacheRefresh:
    """What `refresh_cache` did."""

    wave: str
    #: "hit" (already up to date), "appended" or "built".
    how: str
    respondents: int
    folder: Path


@dataclass(frozen=True)
class _State:
    count: int
    max_id: int
    id_sum: int
    #: SQLite may give a new row the id of a deleted last row; its key tells them apart.
    last_key: str | None


def _database_key(store: Store) -> str:
    """Which database a snapshot came from (wave ids repeat across databases)."""
    return database_key(store.engine.url.render_as_string(hide_password=True))


def default_cache_dir(store: Store) -> Path:
    """$SHAREDGROUND_CACHE_DIR, else beside an SQLite file, else ~/.cache/sharedground."""
    url = store.engine.url
    sqlite_file = store.backend == "sqlite" and url.database and url.database != ":memory:"
    return _cache_dir(url.database if sqlite_file else None, _database_key(store))


def _cache_dir(sqlite_file: str | None, key: str) -> Path:
    configured = os.environ.get(CACHE_ENV)
    if configured:
        return Path(configured)
    if sqlite_file:
        return Path(sqlite_file).with_name(Path(sqlite_file).name + ".analysis-cache")
    return Path.home() / ".cache" / "sharedground" / key


def _identity(key: str, instrument_sha256: str, created: dt.datetime | None) -> dict[str, Any]:
    """What a snapshot must have been made from, besides the responses' record."""
    return {
        "format": _FORMAT,
        "database": key,
        "instrument": instrument_sha256,
        "wave_created": created.isoformat() if created else None,
    }


def load_wave(
    store: Store, wave_name: str, cache_dir: Path | None = None, progress: Progress | None = None
) -> WaveData:
    """A wave as a coded frame; with `cache_dir`, through the snapshot kept there.

    `progress(done, total)` is called as responses are decoded (not on a cache hit).
    """
    with store.session() as session:
        wave = store.get_wave(session, wave_name)
        instrument = store.instrument_of(wave)
        wave_id, threshold = wave.id, wave.suppression_threshold
        identity = _identity(_database_key(store), wave.instrument.sha256, wave.created_at)
    with store.engine.connect() as connection:
        query = _sqlalchemy_query(connection)
        state = _state(query, wave_id)

        def decode(after_id: int, expected: int) -> pl.DataFrame:
            return _decode_rows(
                store, connection, instrument, wave_id, (after_id, state.max_id), expected, progress
            )

        if cache_dir is None:
            frame, how = decode(0, state.count), "uncached"
        else:
            frame, how = _through_cache(query, wave_id, state, cache_dir, identity, decode)
    return WaveData(wave_name, instrument, threshold, frame, how)


@dataclass(frozen=True)
class QuickLoad:
    """A wave read from its current snapshot without the store (`load_current`)."""

    data: WaveData
    #: The wave's questionnaires held for anonymity (0 unless the wave is anonymous).
    held: int


def load_current(
    database: str | None, wave_name: str, cache_dir: Path | None = None
) -> QuickLoad | None:
    """A wave from its snapshot when that is current, read without SQLAlchemy; else None.

    For the command line (issue #16): SQLAlchemy's import alone takes longer than reading
    a survey-sized wave's snapshot. Only an SQLite file (`sharedground.store.quick`) whose
    snapshot matches exactly as `load_wave` checks it (the same identity and the same
    record of the responses, taken in one read transaction) is read here; everything else
    (another database, a missing wave or database, a snapshot to append to or rebuild)
    returns None, and the caller uses `load_wave`, which also reports any error.
    """
    from sharedground.store import quick

    target = quick.sqlite_file(database)
    if target is None:
        return None
    folder = cache_dir or _cache_dir(target.path, target.key)
    with quick.reading(target) as connection:
        if connection is None:
            return None
        found = connection.execute(
            "SELECT w.id, w.suppression_threshold, w.created_at, w.anonymous, i.key, "
            "i.sha256, i.definition, w.closes FROM wave w "
            "JOIN instrument i ON i.id = w.instrument_id WHERE w.name = :name",
            {"name": wave_name},
        ).fetchone()
        if found is None:
            return None
        wave_id, threshold, created, anonymous, key, sha256, definition, closes = found
        if not _final_unchanged(connection, wave_id, quick.as_date(closes)):
            return None
        identity = _identity(target.key, sha256, quick.as_datetime(created))
        cached = _usable_record(folder, wave_id, identity)
        if cached is None:
            return None
        if _state(partial(quick.fetch, connection), wave_id) != cached:
            return None
        held = 0
        if anonymous:
            (held,) = connection.execute(
                "SELECT count(*) FROM held_response WHERE wave_id = :wave", {"wave": wave_id}
            ).fetchone()
        # Read while the transaction holds the record steady, as `load_wave` does.
        frame = pl.read_ipc(_data_path(folder, wave_id))
    instrument = loads(definition, source=f"<stored {key}>")
    return QuickLoad(WaveData(wave_name, instrument, threshold, frame, "hit"), int(held))


def _final_unchanged(connection: Any, wave_id: int, closes: dt.date | None) -> bool:
    """Whether the wave's final figures (`analysis.disclosure.final.released_data`) are its
    responses as stored, so the snapshot can be used as it is.

    True while fieldwork runs (live figures are the stored responses; a lead's pages apply
    their own batches), and after it once the closing mark is set and no response came
    after it. Otherwise (no mark yet: the first final reading sets it; late returns that
    may wait for their batch) the store's path decides.
    """
    from sharedground.fieldwork.clock import study_today
    from sharedground.store.quick import CLOSING_MARK

    if closes is None or study_today() <= closes:
        return True
    mark = connection.execute(
        "SELECT value FROM setting WHERE name = :name", {"name": CLOSING_MARK.format(wave_id)}
    ).fetchone()
    if mark is None:
        return False
    (highest,) = connection.execute(
        "SELECT max(id) FROM response WHERE wave_id = :wave", {"wave": wave_id}
    ).fetchone()
    return highest is None or int(highest) <= int(mark[0])


def refresh_cache(
    store: Store, wave_name: str, cache_dir: Path | None = None, progress: Progress | None = None
) -> CacheRefresh:
    """Bring a wave's snapshot up to date with its responses, so the next analysis reads it.

    Decodes only what the snapshot lacks (nothing when it is current, the new responses when
    some were added, everything otherwise). `cache_dir` defaults to `default_cache_dir`.
    """
    folder = cache_dir or default_cache_dir(store)
    data = load_wave(store, wave_name, folder, progress)
    return CacheRefresh(wave_name, data.cache, data.frame.height, folder)


def invalidate(store: Store, wave_name: str, cache_dir: Path | None = None) -> bool:
    """Forget a wave's snapshot; True when there was one."""
    folder = cache_dir or default_cache_dir(store)
    with store.session() as session:
        wave_id = store.get_wave(session, wave_name).id
    removed = False
    for path in (_data_path(folder, wave_id), _meta_path(folder, wave_id)):
        if path.exists():
            path.unlink()
            removed = True
    return removed


def _sqlalchemy_query(connection: Connection) -> Query:
    from sqlalchemy import text

    return lambda sql, params: connection.execute(text(sql), params).all()


def _usable_record(folder: Path, wave_id: int, identity: dict[str, Any]) -> _State | None:
    """The record of the wave's snapshot, if it has one made from the same wave and database."""
    meta = _read_meta(folder, wave_id)
    usable = (
        meta is not None
        and all(meta.get(key) == value for key, value in identity.items())
        and _data_path(folder, wave_id).exists()
    )
    if not usable or meta is None:
        return None
    return _State(meta["count"], meta["max_id"], meta["id_sum"], meta["last_key"])


def _through_cache(
    query: Query,
    wave_id: int,
    state: _State,
    folder: Path,
    identity: dict[str, Any],
    decode: Callable[[int, int], pl.DataFrame],
) -> tuple[pl.DataFrame, str]:
    cached = _usable_record(folder, wave_id, identity)
    if cached is not None:
        if cached == state:
            return pl.read_ipc(_data_path(folder, wave_id)), "hit"
        if cached.count and _state(query, wave_id, up_to=cached.max_id) == cached:
            old = pl.read_ipc(_data_path(folder, wave_id))
            new = decode(cached.max_id, state.count - cached.count)
            frame = pl.concat([old, new])
            if frame.height == state.count:
                _write(folder, wave_id, frame, state, identity)
            return frame, "appended"
    frame = decode(0, state.count)
    if frame.height == state.count:
        _write(folder, wave_id, frame, state, identity)
    else:
        # Rows came or went between the record and the reading: keep no snapshot that
        # could disagree with its record; the next load builds again.
        _meta_path(folder, wave_id).unlink(missing_ok=True)
    return frame, "built"


def _state(query: Query, wave_id: int, up_to: int | None = None) -> _State:
    where = "wave_id = :wave" + (" AND id <= :up_to" if up_to is not None else "")
    params: dict[str, Any] = {"wave": wave_id}
    if up_to is not None:
        params["up_to"] = up_to
    (row,) = query(f"SELECT count(*), max(id), sum(id) FROM response WHERE {where}", params)
    max_id = int(row[1] or 0)
    keys = query("SELECT respondent_key FROM response WHERE id = :id", {"id": max_id})
    return _State(int(row[0]), max_id, int(row[2] or 0), keys[0][0] if keys else None)


def _decode_rows(
    store: Store,
    connection: Connection,
    instrument: Instrument,
    wave_id: int,
    ids: tuple[int, int],
    expected: int,
    progress: Progress | None,
) -> pl.DataFrame:
    """Decode the responses with `ids[0]` < id <= `ids[1]`, in id order, a chunk at a time.

    The documents come back as bytes (no round trip through Python strings) and each chunk
    is decoded in a worker thread while the next one is fetched: both the database driver
    and Polars' JSON reader release the GIL.
    """
    from sqlalchemy import text

    answers_sql = (
        "convert_to(r.answers::text, 'UTF8')"
        if store.backend == "postgresql"
        else "CAST(r.answers AS BLOB)"
    )
    query = text(
        f"SELECT r.role, o.code, r.mode, {answers_sql} FROM response r "
        "LEFT JOIN organisation o ON o.id = r.organisation_id "
        "WHERE r.wave_id = :wave AND r.id > :after AND r.id <= :up_to ORDER BY r.id"
    )
    result = connection.execution_options(stream_results=True, yield_per=CHUNK).execute(
        query, {"wave": wave_id, "after": ids[0], "up_to": ids[1]}
    )
    parts: list[pl.DataFrame] = []
    with ThreadPoolExecutor(max_workers=1) as worker:
        pending: Future[pl.DataFrame] | None = None
        for chunk in result.partitions(CHUNK):
            rows = [tuple(r) for r in chunk]
            # At most one chunk decoding and one fetched: memory stays two chunks deep.
            if pending is not None:
                parts.append(pending.result())
                if progress is not None:
                    progress(sum(p.height for p in parts), expected)
            pending = worker.submit(_decode_chunk, rows, instrument)
        if pending is not None:
            parts.append(pending.result())
    if progress is not None:
        progress(sum(p.height for p in parts), expected)
    if not parts:
        return pl.DataFrame(schema=schema(instrument))
    return pl.concat(parts, rechunk=True)


def _decode_chunk(rows: list[tuple[Any, ...]], instrument: Instrument) -> pl.DataFrame:
    fixed = {"role", "mode", "trust"}
    names = [c.name for c in coded_columns(instrument) if c.name not in fixed]
    head = pl.DataFrame(
        [r[:3] for r in rows],
        schema={"role": pl.String, "trust": pl.String, "mode": pl.String},
        orient="row",
    )
    # The ndjson reader is the quickest way to turn many documents into columns; keys not
    # in the schema (free text) are skipped without being materialised.
    lines = b"\n".join(_as_bytes(r[3]) for r in rows)
    answers = pl.read_ndjson(io.BytesIO(lines), schema={n: pl.String for n in names})
    return encode(pl.concat([head, answers], how="horizontal"), instrument)


def _as_bytes(document: Any) -> bytes:
    # Normally the stored JSON text as bytes; a driver may hand back text or parsed JSON.
    if isinstance(document, bytes | bytearray | memoryview):
        return bytes(document)
    if isinstance(document, str):
        return document.encode()
    return json.dumps(document).encode()


def _data_path(folder: Path, wave_id: int) -> Path:
    return folder / f"wave-{wave_id}.arrow"


def _meta_path(folder: Path, wave_id: int) -> Path:
    return folder / f"wave-{wave_id}.json"


def _read_meta(folder: Path, wave_id: int) -> dict[str, Any] | None:
    try:
        data = json.loads(_meta_path(folder, wave_id).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _write(
    folder: Path,
    wave_id: int,
    frame: pl.DataFrame,
    state: _State,
    identity: dict[str, Any],
) -> None:
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    data, meta = _data_path(folder, wave_id), _meta_path(folder, wave_id)
    # Write aside and rename, so a reader never sees half a snapshot; the metadata goes
    # last, so a crash in between leaves a snapshot that is simply not trusted.
    meta.unlink(missing_ok=True)
    partial = data.with_suffix(".arrow.partial")
    # Uncompressed Arrow IPC: five times the size of Parquet (90 MB for a million
    # respondents) but read two to four times as fast, and reading is what recurs.
    frame.write_ipc(partial, compression="uncompressed")
    partial.chmod(0o600)
    partial.replace(data)
    record = {
        **identity,
        "count": state.count,
        "max_id": state.max_id,
        "id_sum": state.id_sum,
        "last_key": state.last_key,
        "rows": frame.height,
    }
    meta.write_text(json.dumps(record), encoding="utf-8")
    meta.chmod(0o600)
