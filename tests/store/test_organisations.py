"""Organisation ids: the missing codes added in one statement, safely beside other writers."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, select, text

from sharedground.store import Organisation, Store
from sharedground.store import store as store_module


def _table(store: Store) -> list[tuple[str, int]]:
    with store.session() as session:
        rows = session.execute(
            select(Organisation.code, Organisation.id).order_by(Organisation.code)
        )
        return [(code, ident) for code, ident in rows]


@contextmanager
def _inserts_into_organisation(store: Store) -> Iterator[list[str]]:
    """The INSERT statements sent for the organisation table while the block runs."""
    seen: list[str] = []

    def listen(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO ORGANISATION"):
            seen.append(statement)

    event.listen(store.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(store.engine, "before_cursor_execute", listen)


def test_missing_codes_go_in_with_one_statement(store: Store) -> None:
    with store.session() as session:
        store.organisation_ids(session, ["T01", "T02"])
    codes = [f"T{i:02d}" for i in range(40)]
    with _inserts_into_organisation(store) as inserts, store.session() as session:
        ids = store.organisation_ids(session, reversed(codes))
    assert len(inserts) == 1
    assert sorted(ids) == codes
    assert _table(store) == sorted(ids.items())


def test_known_codes_insert_nothing(store: Store) -> None:
    with store.session() as session:
        first = store.organisation_ids(session, ["RXA", "RXB", "RXA"])
    with _inserts_into_organisation(store) as inserts, store.session() as session:
        again = store.organisation_ids(session, ["RXB", "RXA"])
        assert store.organisation_ids(session, []) == {}
    assert inserts == []
    assert again == first and len(set(first.values())) == 2


def test_more_codes_than_one_statement_takes(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "_CODES_PER_STATEMENT", 3)
    with store.session() as session:
        store.organisation_ids(session, ["B", "D"])
    codes = ["A", "B", "C", "D", "E", "F", "G", "H"]
    with _inserts_into_organisation(store) as inserts, store.session() as session:
        ids = store.organisation_ids(session, codes)
    assert len(inserts) == 2  # six new codes, three a statement
    assert sorted(ids) == codes
    assert _table(store) == sorted(ids.items())


def _wait_until_blocked(store: Store, pid: int | None) -> None:
    """Wait until the second caller is held up by the first one's uncommitted codes."""
    if pid is None:
        # SQLite: its INSERT has started and waits for the write lock (busy timeout 10 s).
        time.sleep(0.3)
        return
    with store.engine.connect() as connection:
        for _ in range(200):
            waiting = connection.execute(
                text("SELECT wait_event_type FROM pg_stat_activity WHERE pid = :pid"),
                {"pid": pid},
            ).scalar()
            if waiting == "Lock":
                return
            connection.rollback()  # a fresh snapshot of pg_stat_activity next time
            time.sleep(0.05)
    pytest.fail("the second caller never waited for the first one's rows")


def test_a_caller_waiting_on_anothers_new_codes_gets_the_same_ids(store: Store) -> None:
    # The first caller adds codes and has not committed yet when the second one, who needs
    # some of the same codes, tries to add them: the second must wait and then use them.
    first_added = threading.Event()
    second_inserting = threading.Event()
    second_pid: list[int | None] = []

    def note_insert(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if threading.current_thread().name.startswith(
            "second"
        ) and statement.lstrip().upper().startswith("INSERT INTO ORGANISATION"):
            second_inserting.set()

    def first() -> dict[str, int]:
        with store.session() as session:
            ids = store.organisation_ids(session, ["C01", "C02", "C03"])
            first_added.set()
            assert second_inserting.wait(30)
            _wait_until_blocked(store, second_pid[0])
        return ids

    def second() -> dict[str, int]:
        assert first_added.wait(30)
        with store.session() as session:
            pid = None
            if store.backend == "postgresql":
                pid = session.scalar(text("SELECT pg_backend_pid()"))
            second_pid.append(pid)
            return store.organisation_ids(session, ["C04", "C03", "C02"])

    event.listen(store.engine, "before_cursor_execute", note_insert)
    try:
        with (
            ThreadPoolExecutor(1, thread_name_prefix="first") as one,
            ThreadPoolExecutor(1, thread_name_prefix="second") as two,
        ):
            later = two.submit(second)
            ids_first = one.submit(first).result(timeout=60)
            ids_second = later.result(timeout=60)
    finally:
        event.remove(store.engine, "before_cursor_execute", note_insert)
    table = dict(_table(store))
    assert sorted(table) == ["C01", "C02", "C03", "C04"]
    assert ids_first == {c: table[c] for c in ("C01", "C02", "C03")}
    assert ids_second == {c: table[c] for c in ("C02", "C03", "C04")}


def test_concurrent_callers_with_overlapping_codes(store: Store) -> None:
    workers = 4

    def add(start: threading.Barrier, codes: list[str]) -> dict[str, int]:
        start.wait(30)  # all callers at once, each with a session of its own
        with store.session() as session:
            return store.organisation_ids(session, codes)

    for round_ in range(3):
        # Worker k wants codes k*5 .. k*5+14: each code is wanted by one to three workers.
        wanted = [[f"R{round_}-{n:03d}" for n in range(k * 5, k * 5 + 15)] for k in range(workers)]
        start = threading.Barrier(workers)
        with ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(add, start, codes) for codes in wanted]
            results = [f.result(timeout=60) for f in futures]
        table = dict(_table(store))
        assert {code for codes in wanted for code in codes} <= set(table)
        for codes, ids in zip(wanted, results, strict=True):
            assert ids == {code: table[code] for code in codes}
    codes = [code for code, _ in _table(store)]
    assert len(codes) == len(set(codes)) == 3 * (workers * 5 + 10)
