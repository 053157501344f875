"""Shared fixtures: a real SQLite file and a real PostgreSQL database for every store test.

`store` runs each test twice, once per backend. PostgreSQL tests get a fresh schema of
their own (dropped afterwards) in the database named by $SHAREDGROUND_TEST_POSTGRES_URL.
They are skipped when no server answers, unless $SHAREDGROUND_REQUIRE_POSTGRES is set
(as CI does), in which case they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from sharedground.store import Store

POSTGRES_URL = os.environ.get(
    "SHAREDGROUND_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


def _postgres_admin_url() -> str:
    return (
        make_url(POSTGRES_URL)
        .set(drivername="postgresql+psycopg")
        .render_as_string(hide_password=False)
    )


def _postgres_unavailable(reason: str) -> None:
    if os.environ.get("SHAREDGROUND_REQUIRE_POSTGRES"):
        pytest.fail(f"PostgreSQL is required here but unavailable: {reason}")
    pytest.skip(f"PostgreSQL unavailable: {reason}")


@pytest.fixture(autouse=True)
def _analysis_cache_in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Analysis snapshots a test writes (`sharedground import` writes one) stay in its tmp folder.

    Without this, a command run against PostgreSQL would write under ~/.cache/sharedground.
    """
    monkeypatch.setenv("SHAREDGROUND_CACHE_DIR", str(tmp_path / "analysis-cache"))


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """The URL of a fresh, empty schema on the PostgreSQL test server."""
    schema = f"sg_test_{secrets.token_hex(6)}"
    try:
        admin = create_engine(_postgres_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:
        _postgres_unavailable(str(exc).splitlines()[0])
    url = make_url(_postgres_admin_url()).update_query_dict({"options": f"-csearch_path={schema}"})
    try:
        yield url.render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'sharedground.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A URL for an empty database, once per backend."""
    if request.param == "sqlite":
        return str(request.getfixturevalue("sqlite_url"))
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def store(database_url: str) -> Iterator[Store]:
    """An initialised, empty store on each backend."""
    store = Store(database_url)
    store.init()
    try:
        yield store
    finally:
        store.dispose()
