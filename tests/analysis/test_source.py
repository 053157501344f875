"""Reading a wave for analysis: codes equal to the CSV, and a cache that knows when it is stale."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from analysis_helpers import HandMade, make_rows, write_rows
from sqlalchemy import delete, select

from sharedground.analysis.encoding import coded_columns, encode
from sharedground.analysis.source import invalidate, load_wave
from sharedground.exchange.importer import import_file
from sharedground.store import Response, Store


def _expected(hand_made: HandMade) -> pl.DataFrame:
    frame = pl.read_csv(hand_made.path, infer_schema=False)
    return encode(frame, hand_made.instrument)


def test_codes_equal_the_imported_file(store: Store, loaded: HandMade) -> None:
    data = load_wave(store, "w")
    assert data.cache == "uncached"
    assert data.frame.equals(_expected(loaded))
    assert data.suppression_threshold == 5


def test_free_text_never_reaches_the_coded_frame(store: Store, loaded: HandMade) -> None:
    names = {c.name for c in coded_columns(loaded.instrument)}
    assert "comments_final" not in names and "barriers_other" not in names
    assert set(load_wave(store, "w").frame.columns) == names


def test_cache_is_built_then_reused(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    first = load_wave(store, "w", cache)
    second = load_wave(store, "w", cache)
    assert (first.cache, second.cache) == ("built", "hit")
    assert second.frame.equals(_expected(loaded))
    snapshot = next(cache.glob("*.arrow"))
    assert snapshot.stat().st_mode & 0o077 == 0  # owner-only, like the database


def test_new_responses_are_appended(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_wave(store, "w", cache)
    more = make_rows(loaded.instrument, 30, seed=99)
    import_file(store, write_rows(tmp_path / "more.csv", loaded.instrument, more), "w")
    data = load_wave(store, "w", cache)
    assert data.cache == "appended"
    expected = encode(
        pl.concat(
            [
                pl.read_csv(loaded.path, infer_schema=False),
                pl.read_csv(tmp_path / "more.csv", infer_schema=False),
            ]
        ),
        loaded.instrument,
    )
    assert data.frame.equals(expected)
    assert load_wave(store, "w", cache).cache == "hit"


def test_a_deleted_response_rebuilds_the_snapshot(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    load_wave(store, "w", cache)
    with store.session() as session:
        first = session.scalar(select(Response.id).order_by(Response.id).limit(1))
        session.execute(delete(Response).where(Response.id == first))
    data = load_wave(store, "w", cache)
    assert data.cache == "built"
    assert data.frame.equals(_expected(loaded).slice(1))


def test_replacing_the_last_response_is_noticed(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    # SQLite may hand a new row the id of a deleted last row: count, highest id and sum of
    # ids all stay the same, so the snapshot also remembers that row's respondent key.
    cache = tmp_path / "cache"
    load_wave(store, "w", cache)
    with store.session() as session:
        last = session.scalars(select(Response).order_by(Response.id.desc()).limit(1)).one()
        replacement = Response(
            id=last.id,
            wave_id=last.wave_id,
            respondent_key="someone-else",
            role=last.role,
            organisation_id=last.organisation_id,
            mode=last.mode,
            answers={"local_rating": "1"},
        )
        session.delete(last)
        session.flush()
        session.add(replacement)
    data = load_wave(store, "w", cache)
    assert data.cache == "built"
    assert data.frame["local_rating"][-1] == 1


def test_snapshot_of_another_database_is_not_used(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    other = Store(f"sqlite:///{tmp_path / 'other.db'}")
    other.init()
    try:
        rows = make_rows(loaded.instrument, len(loaded.rows), seed=5)
        import_file(other, write_rows(tmp_path / "o.csv", loaded.instrument, rows), "w")
        load_wave(other, "w", cache)  # same wave id, same count, other answers
        data = load_wave(store, "w", cache)
    finally:
        other.dispose()
    assert data.cache == "built"
    assert data.frame.equals(_expected(loaded))


def test_invalidate_and_a_damaged_snapshot(store: Store, loaded: HandMade, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    load_wave(store, "w", cache)
    assert invalidate(store, "w", cache) is True
    assert invalidate(store, "w", cache) is False
    load_wave(store, "w", cache)
    meta = next(cache.glob("*.json"))
    meta.write_text("{not json", encoding="utf-8")
    assert load_wave(store, "w", cache).cache == "built"
    assert json.loads(meta.read_text(encoding="utf-8"))["rows"] == len(loaded.rows)


def test_empty_wave(store: Store) -> None:
    from sharedground.instrument import builtin

    with store.session() as session:
        store.create_wave(session, "empty", builtin("dmr-2015"))
    data = load_wave(store, "empty")
    assert data.frame.height == 0
    assert data.frame.schema == encode(pl.DataFrame({"role": ["x"]}), builtin("dmr-2015")).schema


def test_unknown_wave_names_the_known_ones(store: Store, loaded: HandMade) -> None:
    from sharedground.store import StoreError

    with pytest.raises(StoreError, match="waves: w"):
        load_wave(store, "nope")


def test_progress_reports_the_responses_decoded(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    calls: list[tuple[int, int]] = []
    load_wave(store, "w", tmp_path / "cache", progress=lambda d, t: calls.append((d, t)))
    assert calls[-1] == (len(loaded.rows), len(loaded.rows))
    calls.clear()
    load_wave(store, "w", tmp_path / "cache", progress=lambda d, t: calls.append((d, t)))
    assert calls == []  # a cache hit decodes nothing
