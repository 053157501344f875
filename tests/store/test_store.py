"""The store on both backends: schema, instruments, waves, organisations."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect

from sharedground.instrument import builtin
from sharedground.store import Store, StoreError, migrate


def test_init_creates_every_table_at_head(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"instrument", "wave", "response", "contact", "organisation"} <= tables
    assert migrate.current_revision(store.engine) == migrate.head_revision(store.engine)
    store.check()


def test_init_twice_is_harmless(store: Store) -> None:
    assert store.init() == migrate.head_revision(store.engine)


def test_responses_have_no_link_to_contacts(store: Store) -> None:
    # Privacy by design: nothing in `response` may point at `contact`.
    foreign = inspect(store.engine).get_foreign_keys("response")
    assert {fk["referred_table"] for fk in foreign} == {"wave", "organisation"}


def test_wave_keeps_its_instrument(store: Store) -> None:
    with store.session() as session:
        store.create_wave(session, "2015", builtin("dmr-2015"))
    with store.session() as session:
        wave = store.get_wave(session, "2015")
        assert store.instrument_of(wave) == builtin("dmr-2015")


def test_same_instrument_version_with_other_content_is_refused(store: Store) -> None:
    original = builtin("dmr-2015")
    with store.session() as session:
        store.save_instrument(session, original)
    edited = original.model_copy(update={"title": "Edited without a new version"})
    with store.session() as session, pytest.raises(StoreError, match="new version"):
        store.save_instrument(session, edited)


def test_unknown_wave_lists_the_known_ones(store: Store) -> None:
    with store.session() as session:
        store.create_wave(session, "pilot", builtin("dmr-2015"))
    with store.session() as session, pytest.raises(StoreError, match="waves: pilot"):
        store.get_wave(session, "main")


def test_organisation_ids_are_created_once(store: Store) -> None:
    with store.session() as session:
        first = store.organisation_ids(session, ["RXA", "RXB"])
    with store.session() as session:
        again = store.organisation_ids(session, ["RXB", "RXA", "RXC"])
    assert again["RXA"] == first["RXA"] and again["RXB"] == first["RXB"]
    assert len(set(again.values())) == 3


def test_check_refuses_a_missing_sqlite_file(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StoreError, match="sharedground init"):
        Store(str(tmp_path / "absent.db")).check()
    assert not (tmp_path / "absent.db").exists()
