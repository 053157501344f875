"""The store: one object that owns the engine and the few look-ups everything shares."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import cast

from sqlalchemy import Table, inspect, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from sharedground.instrument import Instrument, dumps, loads
from sharedground.store import migrate
from sharedground.store.engine import database_url, make_engine
from sharedground.store.errors import StoreError
from sharedground.store.schema import InstrumentRecord, Organisation, Wave

# One bind parameter per code: well under SQLite's (32,766 since 3.32) and PostgreSQL's
# (65,535) limits, and more organisations than any national survey has.
_CODES_PER_STATEMENT = 30_000


class Store:
    """A sharedground database (SQLite file or PostgreSQL)."""

    def __init__(self, url: str | None = None) -> None:
        self.url = database_url(url)
        self.engine = make_engine(self.url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)!r})"

    @property
    def backend(self) -> str:
        """`sqlite` or `postgresql`."""
        return self.engine.dialect.name

    def init(self) -> str:
        """Create the schema or upgrade it to the newest revision; returns the revision."""
        migrate.upgrade(self.engine)
        revision = migrate.current_revision(self.engine)
        assert revision is not None
        return revision

    def check(self) -> None:
        """Raise StoreError unless the database holds the current schema."""
        database = self.engine.url.database
        # Connecting would create an empty SQLite file; say what to do instead.
        on_disk = self.backend == "sqlite" and database and database != ":memory:"
        if on_disk and not Path(str(database)).exists():
            raise StoreError(f"no database at {database}: run `sharedground init` first")
        current = migrate.current_revision(self.engine)
        head = migrate.head_revision(self.engine)
        where = self.engine.url.render_as_string(hide_password=True)
        if current is None:
            raise StoreError(f"{where} has no sharedground tables yet: run `sharedground init`")
        if current != head:
            raise StoreError(
                f"{where} is at schema {current}, this version needs {head}: "
                "run `sharedground init` to upgrade"
            )

    def has_schema(self) -> bool:
        return inspect(self.engine).has_table("wave")

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any error."""
        with self._sessions.begin() as session:
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

    # -- instruments --------------------------------------------------------------------------

    def save_instrument(self, session: Session, instrument: Instrument) -> InstrumentRecord:
        """Store a definition once; a different definition under the same id@version is refused.

        Instruments are versioned so that a wave's data always reads against the exact
        questionnaire it was collected with.
        """
        text = dumps(instrument)
        digest = hashlib.sha256(text.encode()).hexdigest()
        record = session.scalar(
            select(InstrumentRecord).where(
                InstrumentRecord.key == instrument.id,
                InstrumentRecord.version == instrument.version,
            )
        )
        if record is not None:
            if record.sha256 != digest:
                raise StoreError(
                    f"instrument {instrument.key} is already stored with a different definition: "
                    "give the edited copy a new version number"
                )
            return record
        record = InstrumentRecord(
            key=instrument.id,
            version=instrument.version,
            title=instrument.title,
            definition=text,
            sha256=digest,
        )
        session.add(record)
        session.flush()
        return record

    def instrument_of(self, wave: Wave) -> Instrument:
        """The questionnaire a wave was collected with."""
        return loads(wave.instrument.definition, source=f"<stored {wave.instrument.key}>")

    # -- waves --------------------------------------------------------------------------------

    def find_wave(self, session: Session, name: str) -> Wave | None:
        return session.scalar(select(Wave).where(Wave.name == name))

    def get_wave(self, session: Session, name: str) -> Wave:
        """The wave called `name`; StoreError lists the waves there are when it is missing."""
        wave = self.find_wave(session, name)
        if wave is None:
            names = session.scalars(select(Wave.name).order_by(Wave.name)).all()
            known = ", ".join(names) if names else "none yet"
            raise StoreError(f"no wave {name!r} (waves: {known})")
        return wave

    def create_wave(
        self, session: Session, name: str, instrument: Instrument, **fields: object
    ) -> Wave:
        if self.find_wave(session, name) is not None:
            raise StoreError(f"a wave called {name!r} exists already")
        record = self.save_instrument(session, instrument)
        wave = Wave(name=name, instrument=record, **fields)
        session.add(wave)
        session.flush()
        return wave

    def list_waves(self, session: Session) -> list[Wave]:
        return list(session.scalars(select(Wave).order_by(Wave.created_at, Wave.id)))

    # -- organisations ------------------------------------------------------------------------

    def organisation_ids(self, session: Session, codes: Iterable[str]) -> dict[str, int]:
        """Ids for organisation codes, creating the ones not seen before.

        The missing codes go in with one statement that skips any code another transaction
        has added meanwhile (`ON CONFLICT DO NOTHING`), and then every id is read back: two
        imports naming the same new trust at once both get its one id instead of one of
        them failing on the unique code. On PostgreSQL the second insert waits for the
        first transaction to end; the codes go in sorted, so two such inserts always wait
        for each other in the same order and cannot deadlock.
        """
        wanted = sorted(set(codes))
        if not wanted:
            return {}
        found = self._organisations(session, wanted)
        missing = [code for code in wanted if code not in found]
        if missing:
            insert_ = postgresql.insert if self.backend == "postgresql" else sqlite.insert
            table = cast(Table, Organisation.__table__)
            for start in range(0, len(missing), _CODES_PER_STATEMENT):
                chunk = missing[start : start + _CODES_PER_STATEMENT]
                session.execute(
                    insert_(table)
                    .values([{"code": code} for code in chunk])
                    .on_conflict_do_nothing(index_elements=["code"])
                )
            found.update(self._organisations(session, missing))
        return found

    def _organisations(self, session: Session, codes: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(codes), _CODES_PER_STATEMENT):
            chunk = codes[start : start + _CODES_PER_STATEMENT]
            rows = session.execute(
                select(Organisation.code, Organisation.id).where(Organisation.code.in_(chunk))
            )
            found.update((code, ident) for code, ident in rows)
        return found
