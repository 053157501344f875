"""Reading an SQLite store without SQLAlchemy (issue #16): it answers only when it is sure.

`sharedground.store.quick` either reads what the store would read or says "ask the store"
(None). These tests hold it to SQLAlchemy's own reading of the same URLs and files.
"""

from __future__ import annotations

import sqlite3
import string
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from sharedground.instrument import builtin, dumps, list_builtin
from sharedground.store import Store, database_url, quick
from sharedground.store.migrate import head_revision


@pytest.mark.parametrize("char", sorted(set(string.printable) - set("\t\n\r\x0b\x0c")))
def test_a_path_is_taken_only_when_sqlalchemy_would_keep_it_as_given(char: str) -> None:
    path = f"/srv/data/a{char}b/survey.db"
    found = quick.sqlite_file(path)
    if found is None:
        return  # the store reads it
    # What the store would connect to, and how it names the database in cache records.
    url = make_url(database_url(path))
    assert url.drivername == "sqlite"
    assert url.database == found.path == path
    rendered = url.render_as_string(hide_password=True)
    assert found.url == rendered
    assert found.key == quick.database_key(rendered)


def test_plain_paths_and_urls_are_taken() -> None:
    for given in ("survey.db", "data/survey.db", "/srv/a b/survey-1.db", "sqlite:///x.db"):
        assert quick.sqlite_file(given) is not None, given
    assert quick.sqlite_file("sqlite:////srv/x.db") == quick.SQLiteFile(
        "/srv/x.db", "sqlite:////srv/x.db"
    )


@pytest.mark.parametrize(
    "given",
    [
        "postgresql://user:secret@127.0.0.1/test",
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite+pysqlite:///x.db",
        "sqlite:///x.db?mode=ro",
        "/srv/caf\u00e9/survey.db",
        "/srv/a%20b/survey.db",
    ],
)
def test_other_databases_are_left_to_the_store(given: str) -> None:
    assert quick.sqlite_file(given) is None


def test_the_environment_and_the_default_name_the_same_file_as_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHAREDGROUND_DATABASE_URL", str(tmp_path / "env.db"))
    assert quick.sqlite_file(None) == quick.SQLiteFile(str(tmp_path / "env.db"), database_url(None))
    monkeypatch.delenv("SHAREDGROUND_DATABASE_URL")
    found = quick.sqlite_file(None)
    assert found is not None and found.url == database_url(None)


def _opened(path: Path) -> bool:
    target = quick.sqlite_file(str(path))
    assert target is not None
    with quick.reading(target) as connection:
        return connection is not None


def test_reading_a_current_database(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "s.db"))
    try:
        store.init()
    finally:
        store.dispose()
    assert _opened(tmp_path / "s.db")


def test_a_missing_file_is_left_to_the_store_and_not_created(tmp_path: Path) -> None:
    assert not _opened(tmp_path / "missing.db")
    assert not (tmp_path / "missing.db").exists()


def test_a_file_that_is_no_database_or_an_empty_one_is_left_to_the_store(tmp_path: Path) -> None:
    (tmp_path / "text.db").write_text("not a database\n" * 100, encoding="utf-8")
    assert not _opened(tmp_path / "text.db")
    sqlite3.connect(tmp_path / "empty.db").close()
    assert not _opened(tmp_path / "empty.db")


def test_an_older_schema_is_left_to_the_store(tmp_path: Path) -> None:
    store = Store(str(tmp_path / "s.db"))
    try:
        store.init()
        with store.engine.begin() as connection:
            connection.execute(text("UPDATE alembic_version SET version_num = '0001'"))
    finally:
        store.dispose()
    assert head_revision() != "0001"
    assert not _opened(tmp_path / "s.db")


@pytest.mark.parametrize("name", list_builtin())
def test_role_ids_read_from_the_yaml_are_the_models(name: str) -> None:
    instrument = builtin(name)
    assert quick.role_ids(dumps(instrument)) == instrument.role_ids()


def test_role_ids_of_an_unexpected_definition_come_from_the_model() -> None:
    instrument = builtin("dmr-2015")
    # Reordered keys and flow style: still the same instrument to the model.
    import yaml

    data = yaml.safe_load(dumps(instrument))
    data["sections"] = list(reversed(data["sections"]))
    reordered = yaml.safe_dump(data, default_flow_style=True)
    assert quick.role_ids(reordered) == instrument.role_ids()
    broken = reordered.replace("sections", "parts", 1)
    with pytest.raises(ValueError):
        quick.role_ids(broken)  # the model's own error, as `status` gave before


def test_dates_read_as_sqlalchemy_reads_them(tmp_path: Path) -> None:
    import datetime as dt

    from sqlalchemy import Column, Date, DateTime, Integer, MetaData, Table, create_engine, func

    engine = create_engine(f"sqlite:///{tmp_path / 'd.db'}")
    meta = MetaData()
    t = Table(
        "t",
        meta,
        Column("id", Integer, primary_key=True),
        Column("at", DateTime),
        Column("on", Date),
        Column("made", DateTime, server_default=func.now()),
    )
    meta.create_all(engine)
    written = [
        (dt.datetime(2027, 7, 15, 0, 30), dt.date(2027, 7, 15)),
        (dt.datetime(2027, 7, 15, 0, 30, 0, 250_000), None),
        (None, dt.date(2000, 2, 29)),
    ]
    try:
        with engine.begin() as connection:
            connection.execute(t.insert(), [{"at": a, "on": d} for a, d in written])
            typed = connection.execute(t.select().order_by(t.c.id)).all()
            raw = connection.execute(text('SELECT id, at, "on", made FROM t ORDER BY id')).all()
    finally:
        engine.dispose()
    assert isinstance(raw[0][1], str)  # what sqlite3 hands back
    for mine, theirs in zip(raw, typed, strict=True):
        assert quick.as_datetime(mine[1]) == theirs[1]
        assert quick.as_date(mine[2]) == theirs[2]
        assert quick.as_datetime(mine[3]) == theirs[3]
    # Values a driver already typed pass through.
    assert quick.as_date(dt.date(2027, 1, 2)) == dt.date(2027, 1, 2)
    assert quick.as_datetime(dt.datetime(2027, 1, 2, 3)) == dt.datetime(2027, 1, 2, 3)
