"""The app's database runner: one transaction per request, retried once after a lost race."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from webhelpers import Survey

from sharedground.store.schema import Setting

T = TypeVar("T")


def _run(make: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run a coroutine to its end on an event loop of its own, in a thread of its own.

    Not `asyncio.run` here: in the whole suite an earlier test's Playwright (sync API) may
    still have a loop running in this thread, and asyncio.run refuses to start beside it.
    The coroutine is made in the thread, so none is left unawaited if the run fails.
    """
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make())).result()


@pytest.mark.parametrize("plain", [False, True], ids=["session", "connection"])
@pytest.mark.parametrize("write", [False, True], ids=["read", "write"])
def test_a_lost_race_is_rolled_back_and_run_again(survey: Survey, plain: bool, write: bool) -> None:
    """What the first attempt wrote is gone; the second attempt's is committed."""
    ctx = survey.app().state.web
    attempts: list[bool] = []  # whether each attempt was given a plain connection

    def work(db: Session | Connection, value: str) -> str:
        attempts.append(isinstance(db, Connection))
        db.execute(insert(Setting).values(name=f"attempt-{len(attempts)}", value=value))
        if len(attempts) == 1:
            # What a double click's second first-save meets: the other one's row.
            raise IntegrityError("INSERT", {}, Exception("duplicate key"))
        return value

    assert _run(lambda: ctx.run(work, "kept", write=write, plain=plain)) == "kept"
    assert attempts == [plain] * 2
    with survey.store.session() as session:
        names = set(session.scalars(select(Setting.name).where(Setting.name.like("attempt-%"))))
    assert names == {"attempt-2"}


def test_an_error_other_than_a_race_is_not_retried(survey: Survey) -> None:
    ctx = survey.app().state.web
    attempts = []

    def work(connection: Connection) -> None:
        attempts.append(1)
        connection.execute(insert(Setting).values(name="never", value="x"))
        raise LookupError("not a race")

    with pytest.raises(LookupError):
        _run(lambda: ctx.run(work, write=True, plain=True))
    assert attempts == [1]
    with survey.store.session() as session:
        assert session.get(Setting, "never") is None
