"""The schema check without Alembic says what Alembic says (issue #16 made it light)."""

from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from sharedground.store import Store, migrate


def test_head_revision_is_alembics(store: Store) -> None:
    alembic_head = ScriptDirectory.from_config(
        migrate.alembic_config(store.engine)
    ).get_current_head()
    assert migrate.head_revision() == alembic_head


def test_current_revision_is_alembics_before_and_after_init(database_url: str) -> None:
    store = Store(database_url)
    try:
        with store.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_revision() is None
        assert migrate.current_revision(store.engine) is None
        store.init()
        with store.engine.connect() as connection:
            expected = MigrationContext.configure(connection).get_current_revision()
        assert expected is not None
        assert migrate.current_revision(store.engine) == expected
    finally:
        store.dispose()
