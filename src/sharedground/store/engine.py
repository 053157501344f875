"""Where the database is and how to connect to it.

SQLAlchemy is imported inside the functions: `sharedground.store.quick` uses `given_url`
and the constants here to read SQLite files without it (issue #16).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

DEFAULT_URL = "sqlite:///sharedground.db"
ENV_VAR = "SHAREDGROUND_DATABASE_URL"


def given_url(explicit: str | None = None) -> str:
    """The URL or path as given: the argument, else $SHAREDGROUND_DATABASE_URL, else the default.

    Without SQLAlchemy (`sharedground.store.quick` reads SQLite files without it).
    """
    return explicit or os.environ.get(ENV_VAR) or DEFAULT_URL


def database_url(explicit: str | None = None) -> str:
    """The URL to use: the one given, else $SHAREDGROUND_DATABASE_URL, else ./sharedground.db.

    A bare file path is taken as an SQLite database; `postgresql://` URLs use psycopg 3.
    """
    from sqlalchemy.engine import make_url

    url = given_url(explicit)
    if "://" not in url:
        url = f"sqlite:///{url}"
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    """An engine with the settings sharedground relies on for each backend."""
    from sqlalchemy import create_engine, event

    resolved = database_url(url)
    if resolved.startswith("sqlite"):
        engine = create_engine(resolved, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(resolved, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web survey read while an import writes; foreign keys are off by default
    # in SQLite; a busy timeout turns brief lock contention into a wait, not an error.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
