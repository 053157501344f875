"""The snapshot read without SQLAlchemy (`load_current`, issue #16) is used only when current.

`load_current` reads a wave's snapshot straight from an SQLite file and must trust it
exactly when `load_wave` would: the same wave, database and instrument, and the same record
of the responses. Whenever anything changed it must step aside (None), so that the command
line goes through `load_wave`, which appends or rebuilds. Each case here changes one thing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from analysis_helpers import HandMade, make_rows, write_rows
from click.testing import CliRunner
from sqlalchemy import delete, select, text, update

from sharedground.analysis import source
from sharedground.analysis.source import load_current, load_wave, refresh_cache
from sharedground.cli import main
from sharedground.exchange.importer import import_file
from sharedground.fieldwork import anonymity
from sharedground.fieldwork.links import create_links
from sharedground.store import Response, Store, Wave
from sharedground.web.survey import open_visit, submit


def _url(store: Store) -> str:
    return store.engine.url.render_as_string(hide_password=False)


def _current(store: Store, cache: Path) -> source.QuickLoad | None:
    return load_current(_url(store), "w", cache)


def test_a_current_snapshot_is_read_as_load_wave_reads_it(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    cache = tmp_path / "cache"
    refresh_cache(store, "w", cache)
    quick = _current(store, cache)
    if store.backend != "sqlite":
        assert quick is None  # PostgreSQL: always the store
        return
    assert quick is not None
    slow = load_wave(store, "w", cache)
    assert (quick.data.cache, slow.cache) == ("hit", "hit")
    assert quick.data.frame.equals(slow.frame)
    assert quick.data.instrument == slow.instrument
    assert quick.data.suppression_threshold == slow.suppression_threshold == 5
    assert quick.data.name == "w" and quick.held == 0


def test_the_default_cache_folder_is_the_stores(
    store: Store, loaded: HandMade, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(source.CACHE_ENV, raising=False)
    if store.backend != "sqlite":
        pytest.skip("only SQLite files are read without the store")
    done = refresh_cache(store, "w")
    try:
        assert done.folder == source.default_cache_dir(store)
        quick = load_current(_url(store), "w")
        assert quick is not None and quick.data.frame.height == len(loaded.rows)
    finally:
        for path in done.folder.iterdir():
            path.unlink()
        done.folder.rmdir()


def _add_by_import(store: Store, tmp_path: Path, loaded: HandMade) -> None:
    more = make_rows(loaded.instrument, 5, seed=41)
    import_file(store, write_rows(tmp_path / "more.csv", loaded.instrument, more), "w")


def _add_by_web(store: Store, tmp_path: Path, loaded: HandMade) -> None:
    import datetime as dt

    today = dt.date.today()
    with store.session() as session:
        tokens = create_links(session, store.get_wave(session, "w"), 1, role="medical_director")
    with store.session() as session:
        visit = open_visit(session, tokens[0], today)
        visit.answers = {"local_rating": "1"}
        assert submit(session, visit, today)


def _delete_first(store: Store, tmp_path: Path, loaded: HandMade) -> None:
    with store.session() as session:
        first = session.scalar(select(Response.id).order_by(Response.id).limit(1))
        session.execute(delete(Response).where(Response.id == first))


def _replace_last(store: Store, tmp_path: Path, loaded: HandMade) -> None:
    # Same count, highest id and sum of ids: only the respondent key tells.
    with store.session() as session:
        last = session.scalars(select(Response).order_by(Response.id.desc()).limit(1)).one()
        values = {
            "id": last.id,
            "wave_id": last.wave_id,
            "respondent_key": "someone-else",
            "role": last.role,
            "organisation_id": last.organisation_id,
            "mode": last.mode,
            "answers": {"local_rating": "1"},
        }
        session.delete(last)
        session.flush()
        session.add(Response(**values))


def _change_instrument(store: Store, tmp_path: Path, loaded: HandMade) -> None:
    with store.session() as session:
        session.execute(text("UPDATE instrument SET sha256 = 'edited'"))


def _recreate_wave(store: Store, tmp_path: Path, loaded: HandMade) -> None:
    # As a database made again at the same path with a wave of the same size would look.
    import datetime as dt

    with store.session() as session:
        session.execute(
            update(Wave).where(Wave.name == "w").values(created_at=dt.datetime(2000, 1, 2))
        )


def _rename_database(store: Store, tmp_path: Path, loaded: HandMade) -> None:
    meta = next((tmp_path / "cache").glob("*.json"))
    record = json.loads(meta.read_text(encoding="utf-8"))
    meta.write_text(json.dumps({**record, "database": "0" * 16}), encoding="utf-8")


def _damage_record(store: Store, tmp_path: Path, loaded: HandMade) -> None:
    next((tmp_path / "cache").glob("*.json")).write_text("{not json", encoding="utf-8")


def _lose_data(store: Store, tmp_path: Path, loaded: HandMade) -> None:
    next((tmp_path / "cache").glob("*.arrow")).unlink()


def _hold_anonymous(store: Store, tmp_path: Path, loaded: HandMade) -> None:
    # Held questionnaires are not responses: the snapshot stays current (the case below
    # checks the count is reported); released, they are responses and it is not.
    with store.session() as session:
        session.execute(update(Wave).where(Wave.name == "w").values(anonymous=True))
    _add_by_web(store, tmp_path, loaded)
    assert _current(store, tmp_path / "cache") is not None
    with store.session() as session:
        assert anonymity.release(session, store.get_wave(session, "w"), force=True) == 1


CHANGES: dict[str, Any] = {
    "new response by import": _add_by_import,
    "new response from the web": _add_by_web,
    "response deleted": _delete_first,
    "last response replaced": _replace_last,
    "instrument changed": _change_instrument,
    "wave made again": _recreate_wave,
    "another database": _rename_database,
    "damaged record": _damage_record,
    "snapshot data gone": _lose_data,
    "anonymous questionnaires released": _hold_anonymous,
}


@pytest.mark.parametrize("change", list(CHANGES.values()), ids=list(CHANGES))
def test_any_change_sends_the_command_to_the_store(
    sqlite_url: str, hand_made: HandMade, tmp_path: Path, change: Any
) -> None:
    store = Store(sqlite_url)
    try:
        store.init()
        import_file(store, hand_made.path, "w", hand_made.instrument)
        cache = tmp_path / "cache"
        refresh_cache(store, "w", cache)
        assert _current(store, cache) is not None  # the case can fail
        change(store, tmp_path, hand_made)
        assert _current(store, cache) is None
        # The store's reading, which the command then uses, equals a fresh read.
        data = load_wave(store, "w", cache)
        assert data.cache in ("appended", "built")
        assert data.frame.equals(load_wave(store, "w").frame)
    finally:
        store.dispose()


def test_questionnaires_held_for_anonymity_are_reported(
    sqlite_url: str, hand_made: HandMade, tmp_path: Path
) -> None:
    store = Store(sqlite_url)
    try:
        store.init()
        import_file(store, hand_made.path, "w", hand_made.instrument)
        with store.session() as session:
            session.execute(update(Wave).where(Wave.name == "w").values(anonymous=True))
        _add_by_web(store, tmp_path, hand_made)
        cache = tmp_path / "cache"
        refresh_cache(store, "w", cache)
        quick = _current(store, cache)
        assert quick is not None and quick.held == 1
        args = ["analyse", "--wave", "w", "--format", "json", "--database", sqlite_url]
        result = CliRunner().invoke(main, [*args, "--cache-dir", str(cache)])
        assert result.exit_code == 0
        assert "1 completed questionnaire(s) of w are held" in result.stderr
    finally:
        store.dispose()


def _without_generated_at(output: str) -> str:
    return "\n".join(line for line in output.splitlines() if '"generated_at"' not in line)


@pytest.mark.parametrize("fmt", ["json", "csv", "table"])
def test_the_output_is_the_same_whichever_way_the_wave_is_read(
    store: Store, loaded: HandMade, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    cache = tmp_path / "cache"
    refresh_cache(store, "w", cache)
    args = ["analyse", "--wave", "w", "--format", fmt, "--database", _url(store)]
    args += ["--cache-dir", str(cache), "--by", "trust"]
    read: list[str] = []
    real = source.load_current

    def spy(*given: Any) -> source.QuickLoad | None:
        found = real(*given)
        read.append("quick" if found is not None else "store")
        return found

    monkeypatch.setattr(source, "load_current", spy)
    quick = CliRunner().invoke(main, args, terminal_width=200)
    monkeypatch.setattr(source, "load_current", lambda *_: read.append("store"))
    slow = CliRunner().invoke(main, args, terminal_width=200)
    assert quick.exit_code == slow.exit_code == 0, quick.output + slow.output
    expected = ["quick", "store"] if store.backend == "sqlite" else ["store", "store"]
    assert read == expected
    assert _without_generated_at(quick.output) == _without_generated_at(slow.output)


def test_after_the_close_the_snapshot_serves_only_unchanged_final_figures(
    store: Store, loaded: HandMade, tmp_path: Path
) -> None:
    """Once fieldwork is over, every output reads the wave's released set
    (`analysis.disclosure.final`): the quick path may serve the snapshot only when that set
    is the stored responses (mark set, nothing after it), and steps aside before the first
    final reading (which sets the mark) and once a late return has come."""
    import datetime as dt

    from sharedground.analysis.disclosure.final import released_data

    if store.backend != "sqlite":
        pytest.skip("only SQLite files are read without the store")
    cache = tmp_path / "cache"
    with store.session() as session:
        session.execute(update(Wave).where(Wave.name == "w").values(closes=dt.date(2020, 1, 31)))
    refresh_cache(store, "w", cache)
    assert _current(store, cache) is None  # closed, no mark yet: the store's path sets it
    released_data(store, load_wave(store, "w", cache))  # the first final reading
    quick = _current(store, cache)
    assert quick is not None and quick.data.frame.height == len(loaded.rows)
    _add_by_import(store, tmp_path, loaded)  # five late returns
    refresh_cache(store, "w", cache)
    assert _current(store, cache) is None
    result = CliRunner().invoke(
        main, ["analyse", "--wave", "w", "--database", _url(store), "--cache-dir", str(cache),
               "--format", "json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
