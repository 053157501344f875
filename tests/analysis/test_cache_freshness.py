"""The analysis cache made ready ahead of time, and kept true as a wave gets more responses.

Responses arrive by a second import, a web submission and a reconciled paper return; each
time the next analysis through the snapshot must equal a fresh read of the database.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from analysis_helpers import HandMade, make_rows, write_rows
from sqlalchemy import delete, event, select, update

from sharedground.analysis.source import CACHE_ENV, load_wave, refresh_cache
from sharedground.exchange.importer import import_file
from sharedground.fieldwork import anonymity
from sharedground.fieldwork.contacts import import_contacts
from sharedground.fieldwork.links import create_links
from sharedground.fieldwork.paper import key_questionnaire
from sharedground.fieldwork.postal import draw_sample
from sharedground.store import Contact, Response, Store, Wave
from sharedground.web.survey import open_visit, submit

TODAY = dt.date.today()


def _fresh(store: Store) -> pl.DataFrame:
    """The wave as the database holds it now, read without any snapshot."""
    data = load_wave(store, "w")
    assert data.cache == "uncached"
    return data.frame


def test_refresh_builds_then_finds_the_snapshot_current(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    built = refresh_cache(store, "w", cache)
    assert (built.how, built.respondents, built.folder) == ("built", len(loaded.rows), cache)
    again = refresh_cache(store, "w", cache)
    assert (again.how, again.respondents) == ("hit", len(loaded.rows))
    data = load_wave(store, "w", cache)
    assert data.cache == "hit"
    assert data.frame.equals(_fresh(store))


def test_refresh_uses_the_default_folder(
    tmp_path: Path, hand_made: HandMade, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(CACHE_ENV, raising=False)
    store = Store(str(tmp_path / "survey.db"))
    try:
        store.init()
        import_file(store, hand_made.path, "w")
        done = refresh_cache(store, "w")
        assert done.folder == tmp_path / "survey.db.analysis-cache"
        assert [p.suffix for p in sorted(done.folder.iterdir())] == [".arrow", ".json"]
        assert load_wave(store, "w", done.folder).cache == "hit"
    finally:
        store.dispose()


# -- new responses after the snapshot ------------------------------------------------------


def _by_import(store: Store, tmp_path: Path, instrument: Any) -> int:
    rows = make_rows(instrument, 25, seed=31)
    for row in rows:
        row["local_rating"] = "1"
    import_file(store, write_rows(tmp_path / "more.csv", instrument, rows), "w")
    return len(rows)


def _by_web(store: Store, tmp_path: Path, instrument: Any) -> int:
    with store.session() as session:
        wave = store.get_wave(session, "w")
        tokens = create_links(session, wave, 3, role="medical_director", trust="RZ9")
    with store.session() as session:
        for token in tokens:
            visit = open_visit(session, token, TODAY)
            visit.answers = {"local_rating": "1", "barriers": "lack_trust"}
            assert submit(session, visit, TODAY)
    return len(tokens)


def _by_paper(store: Store, tmp_path: Path, instrument: Any) -> int:
    frame = tmp_path / "contacts.csv"
    with frame.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["name", "email", "postal_address", "role", "trust", "directorate"])
        for n in (1, 2):
            address = f"{n} High Street\nTown\nAB1 2CD"
            writer.writerow(
                [f"Person {n}", f"p{n}@example.org", address, "chief_executive", "RZ9", ""]
            )
    import_contacts(store, frame, "w")
    draw_sample(store, "w", {"chief_executive": 1.0}, seed=1)
    with store.session() as session:
        serials = list(session.scalars(select(Contact.serial).where(Contact.serial.is_not(None))))
    answers = {"role": "chief_executive", "local_rating": "1", "barriers": "lack_trust"}
    for serial in serials:
        assert serial is not None
        with store.session() as session:
            key_questionnaire(session, serial, answers, "keyer-a")
        with store.session() as session:
            assert key_questionnaire(session, serial, answers, "keyer-b").status == "reconciled"
    return len(serials)


def _by_anonymous_release(store: Store, tmp_path: Path, instrument: Any) -> int:
    # An anonymous wave's web answers are held first (not yet responses: the snapshot stays
    # current), then released into the responses together, in random order.
    with store.session() as session:
        session.execute(update(Wave).where(Wave.name == "w").values(anonymous=True))
    added = _by_web(store, tmp_path, instrument)
    assert load_wave(store, "w", tmp_path / "cache").cache == "hit"
    with store.session() as session:
        assert anonymity.release(session, store.get_wave(session, "w"), force=True) == added
    return added


@pytest.mark.parametrize(
    "add",
    [_by_import, _by_web, _by_paper, _by_anonymous_release],
    ids=["import", "web", "paper", "anonymous-release"],
)
def test_analysis_after_new_responses_sees_them(
    store: Store,
    loaded: HandMade,
    tmp_path: Path,
    add: Callable[[Store, Path, Any], int],
) -> None:
    cache = tmp_path / "cache"
    assert refresh_cache(store, "w", cache).how == "built"
    added = add(store, tmp_path, loaded.instrument)
    assert added > 0
    data = load_wave(store, "w", cache)
    assert data.cache == "appended"
    assert data.frame.height == len(loaded.rows) + added
    assert data.frame.equals(_fresh(store))
    # The new responses are the last rows, each with the answer given above.
    assert data.frame["local_rating"].tail(added).to_list() == [1] * added
    assert load_wave(store, "w", cache).cache == "hit"


def test_refresh_after_new_responses_appends(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    refresh_cache(store, "w", cache)
    added = _by_import(store, tmp_path, loaded.instrument)
    done = refresh_cache(store, "w", cache)
    assert (done.how, done.respondents) == ("appended", len(loaded.rows) + added)
    data = load_wave(store, "w", cache)
    assert data.cache == "hit" and data.frame.equals(_fresh(store))


def test_a_response_committed_while_the_wave_is_read(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    # A web submission can commit after the snapshot's record was taken and before its rows
    # are read: it must be neither in a snapshot that does not record it nor counted twice.
    cache = tmp_path / "cache"
    one = write_rows(tmp_path / "one.csv", loaded.instrument, make_rows(loaded.instrument, 1, 3))
    fired: list[bool] = []

    def meanwhile(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "ORDER BY r.id" in statement and not fired:
            fired.append(True)
            import_file(store, one, "w")  # another connection, committed at once

    event.listen(store.engine, "before_cursor_execute", meanwhile)
    try:
        first = load_wave(store, "w", cache)
    finally:
        event.remove(store.engine, "before_cursor_execute", meanwhile)
    assert fired
    assert first.frame.height == len(loaded.rows)
    second = load_wave(store, "w", cache)
    assert second.cache == "appended"
    assert second.frame.height == len(loaded.rows) + 1
    assert second.frame.equals(_fresh(store))


def test_a_response_deleted_while_the_wave_is_read(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    # The rows read no longer match the record taken just before: no snapshot is kept.
    cache = tmp_path / "cache"
    fired: list[bool] = []

    def meanwhile(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if "ORDER BY r.id" in statement and not fired:
            fired.append(True)
            with store.session() as session:
                first = session.scalar(select(Response.id).order_by(Response.id).limit(1))
                session.execute(delete(Response).where(Response.id == first))

    event.listen(store.engine, "before_cursor_execute", meanwhile)
    try:
        data = load_wave(store, "w", cache)
    finally:
        event.remove(store.engine, "before_cursor_execute", meanwhile)
    assert fired
    assert data.frame.height == len(loaded.rows) - 1
    assert list(cache.glob("*.json")) == []
    again = load_wave(store, "w", cache)
    assert again.cache == "built" and again.frame.equals(_fresh(store))
    assert load_wave(store, "w", cache).cache == "hit"


def test_a_database_made_again_at_the_same_path(
    tmp_path: Path, hand_made: HandMade, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Same wave id, same number of rows, same respondent ids, other answers: only the wave's
    # creation time tells the new database's wave from the old one's snapshot.
    monkeypatch.delenv(CACHE_ENV, raising=False)
    database = tmp_path / "survey.db"
    other = [
        dict(row, respondent_id=old["respondent_id"])
        for row, old in zip(
            make_rows(hand_made.instrument, len(hand_made.rows), seed=8),
            hand_made.rows,
            strict=True,
        )
    ]
    second_file = write_rows(tmp_path / "second.csv", hand_made.instrument, other)

    def made_afresh(path: Path, created: dt.datetime | None) -> pl.DataFrame:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        store = Store(str(database))
        try:
            store.init()
            import_file(store, path, "w")
            if created is not None:
                with store.session() as session:
                    session.execute(update(Wave).values(created_at=created))
            assert refresh_cache(store, "w").how == "built"
            data = load_wave(store, "w", tmp_path / "survey.db.analysis-cache")
            assert data.cache == "hit" and data.frame.equals(_fresh(store))
            return data.frame
        finally:
            store.dispose()

    first = made_afresh(hand_made.path, dt.datetime(2015, 1, 5, 9, 30))
    second = made_afresh(second_file, None)
    assert second["local_rating"].to_list() != first["local_rating"].to_list()
