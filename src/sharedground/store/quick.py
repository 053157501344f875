"""Reading an SQLite store without SQLAlchemy, for the commands that must answer at once.

SQLAlchemy's engine and ORM take a quarter to a third of a second to import, longer than
`status` or a warm `analyse` of a survey-sized wave take to do their work (issue #16). For
an SQLite file those commands read what they need here, with the standard library's
`sqlite3`, in one read transaction; anything else (PostgreSQL, an unusual URL, a database
that is missing or not at the current schema) is left to the full store, which also says
what is wrong. So this module only ever answers "here it is" or "ask the store" (None):
every error message stays the store's.

Values come back as SQLite keeps them (dates and times as ISO text); `as_date` and
`as_datetime` turn them into what SQLAlchemy would have returned, and take values that are
already dates, so the same code can read rows from either.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import sqlite3
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from sharedground.store.engine import given_url
from sharedground.store.migrate import VERSION_TABLE, head_revision

#: The `setting` row holding a wave's closing mark (`analysis.disclosure.final`), here so
#: that the quick readers can check it without importing SQLAlchemy.
CLOSING_MARK = "closing-mark:wave-{}"

_PREFIX = "sqlite:///"
# Characters SQLAlchemy's URL neither decodes nor escapes in an SQLite file's path, so the
# URL it renders (which names the database in the analysis cache's records) is the text
# given. Any other character (%, @, #, ?, non-ASCII...) sends the command to the store;
# tests/store/test_quick.py checks every printable character against SQLAlchemy.
_PLAIN = frozenset(string.ascii_letters + string.digits + "/._-+ ")


@dataclass(frozen=True)
class SQLiteFile:
    """A plain `sqlite:///PATH` database: its path, and the URL as the store renders it."""

    path: str
    url: str

    @property
    def key(self) -> str:
        """Which database this is, as `sharedground.analysis.source` names it."""
        return database_key(self.url)


def database_key(rendered_url: str) -> str:
    """A short digest of a database's URL (password hidden), naming it in cache records."""
    return hashlib.sha256(rendered_url.encode()).hexdigest()[:16]


def sqlite_file(database: str | None) -> SQLiteFile | None:
    """The SQLite file `--database` (or the environment, or the default) names, if plainly one.

    None for PostgreSQL, in-memory databases, driver variants, query options and paths
    with characters SQLAlchemy would rewrite: the store handles those.
    """
    given = given_url(database)
    if "://" not in given:
        given = _PREFIX + given
    if not given.startswith(_PREFIX):
        return None
    path = given.removeprefix(_PREFIX)
    if not path or path == ":memory:" or not set(path) <= _PLAIN:
        return None
    return SQLiteFile(path, given)


@contextmanager
def reading(database: SQLiteFile) -> Iterator[sqlite3.Connection | None]:
    """A connection in one read transaction, or None when the store should be asked instead.

    None when the file is missing (connecting must not create it), is not an SQLite
    database, or is not at the schema this version of sharedground needs.
    """
    try:
        # mode=rw: fail rather than create a missing file. The timeout is the store's
        # busy timeout (a writer holding the lock briefly means a wait, not an error).
        connection = sqlite3.connect(
            f"file:{quote(database.path)}?mode=rw", uri=True, timeout=10, isolation_level=None
        )
    except sqlite3.Error:
        yield None
        return
    try:
        try:
            connection.execute("BEGIN")
            rows = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchall()
        except sqlite3.Error:
            yield None
            return
        if len(rows) != 1 or rows[0][0] != head_revision():
            yield None
            return
        yield connection
    finally:
        connection.close()  # nothing was written: closing ends the read transaction


def fetch(connection: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[Sequence[Any]]:
    """Every row of a query with :named parameters (the same SQL SQLAlchemy's `text` takes)."""
    return connection.execute(sql, params).fetchall()


def as_date(value: Any) -> dt.date | None:
    """A date column's value as a date (SQLite keeps ISO text; other drivers give dates)."""
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def as_datetime(value: Any) -> dt.datetime | None:
    """A datetime column's value as SQLAlchemy returns it from SQLite (`fromisoformat`)."""
    if value is None or isinstance(value, dt.datetime):
        return value
    return dt.datetime.fromisoformat(str(value))


def role_ids(definition: str) -> list[str]:
    """`Instrument.role_ids` of a stored definition, read from its YAML without the model.

    Building the instrument model (pydantic) takes a tenth of a second, and `status` needs
    only the role ids. A stored definition was validated when it was saved, so its role
    item is where the model would find it (the first item with id `role`, a single-choice
    item whose options are the roles); a definition not shaped so is left to the model.
    """
    import yaml

    data = yaml.load(definition, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    try:
        for section in data["sections"]:
            for item in section["items"]:
                if item["id"] == "role":
                    if item["type"] == "single":
                        return [str(option["id"]) for option in item["options"]]
                    raise TypeError("not a single-choice item")
    except (KeyError, TypeError):
        pass
    from sharedground.instrument import loads

    return loads(definition).role_ids()
